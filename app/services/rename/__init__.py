"""The bulk renamer: batches, names, exports, and the vision engines behind them."""
