"""What a request brings in, read strictly: form values, text, amounts and next links."""
