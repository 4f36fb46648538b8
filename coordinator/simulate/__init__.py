"""`newral simulate`: many simulated volunteer nodes, honest and not, driven
through the real coordinator domain on a real database, to compare validation
policies side by side."""
