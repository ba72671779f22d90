"""Text analysis every stage reads: sentences and chunks, keyword terms, languages, syndicated
copies, and who said what (quotes in English, French, German and Spanish)."""
