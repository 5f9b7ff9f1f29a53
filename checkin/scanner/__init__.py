"""The scanner page for tablets and phones, device pairing, and its offline service worker."""
