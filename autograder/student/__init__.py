"""What students get and use: the kit (public checks as data), the template, and submit."""
