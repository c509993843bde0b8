"""The networks on offer: seeded, reproducible presets."""

from engine.presets.registry import Preset, build_preset, get_preset, list_presets, preset_options

__all__ = ["Preset", "build_preset", "get_preset", "list_presets", "preset_options"]
