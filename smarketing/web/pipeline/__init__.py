"""Working the leads day to day: the list, one lead's page and actions, tasks, notifications."""
