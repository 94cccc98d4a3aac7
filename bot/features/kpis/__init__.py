"""Key performance indicators: how the desk and the bot keep the retailer's promises."""
