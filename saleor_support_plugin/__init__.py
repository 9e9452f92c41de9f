"""saleor_support_plugin: self-hosted customer support for Saleor stores."""

__version__ = "0.1.0"
