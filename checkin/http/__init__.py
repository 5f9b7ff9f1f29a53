"""What every feature's views share: Flask extensions, signals after a commit, the socket guard."""
