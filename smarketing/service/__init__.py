"""The service layer: business commands over the domain, and the people and tokens they act for."""
