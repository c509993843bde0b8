"""The networks on offer: seeded, reproducible presets."""

from engine.presets.registry import (
    DEFAULT_SEED,
    Preset,
    build_preset,
    get_preset,
    list_presets,
    preset_options,
)

__all__ = ["DEFAULT_SEED", "Preset", "build_preset", "get_preset", "list_presets", "preset_options"]
