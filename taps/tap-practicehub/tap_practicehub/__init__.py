"""Singer tap for PracticeHub."""
