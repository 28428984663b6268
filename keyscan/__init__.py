"""keyscan: finds leaked API keys and says what to rotate and how."""

__version__ = "0.1.0"
