"""Administration: users, integration tokens and the mail an offline install would have sent."""
