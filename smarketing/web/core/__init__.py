"""The app factory and what every request passes: access, login, security, errors, htmx, i18n."""
