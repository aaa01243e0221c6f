"""Free-text reasons can name a person ("Zelda Quimbyworth signed"), so the lead events
that carry one keep it in ``personal``, sealed with the lead's key and blank after an
erasure, like a name or a note (smarketing.store.personal_data)."""

from typing import Any


def reason_into_personal(state: dict[str, Any]) -> None:
    """Upcast an event stored with its reason in clear: the reason joins ``personal``.

    Such a row still holds the text in clear; smarketing.store.personal_data reads it as
    erased once the lead's key is gone (docs/SECURITY.md, "Erasure")."""
    state["personal"] = {"reason": state.pop("reason", "")}


class SealedReason:
    """An event whose free-text reason may name a person, so it travels in ``personal``
    (sealed with the lead's key, blank after erasure); ``reason`` reads it from there."""

    personal: dict[str, str]

    @property
    def reason(self) -> str:
        return self.personal.get("reason", "")
