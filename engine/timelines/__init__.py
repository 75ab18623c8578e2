"""Timeline builders: each turns engine results into the Timeline one scene family draws."""
