"""``python -m opsradar.core`` prints docs/configuration.md from the settings table."""

from opsradar.core import settings_markdown

print(settings_markdown(), end="")
