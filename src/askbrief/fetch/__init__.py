"""Fetching: article pages fetched politely and safely, and RSS and Atom feeds watched."""
