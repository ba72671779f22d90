"""The web: fetching pages politely and safely, and watching RSS and Atom feeds."""
