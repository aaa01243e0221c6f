"""How things read: labels, event wording, figures, periods, charts and exports."""
