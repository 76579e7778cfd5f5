"""Client requests: versioned forms, requests sent for an order, recipients' links and their answers."""
