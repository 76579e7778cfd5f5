"""The staff workspace: order lists, order cards and the actions staff take on them."""
