"""Discord's component type numbers (developers/components/reference, "Component Types"),
shared by the message, layout and modal rules so none of them imports another for a number."""

from __future__ import annotations

ACTION_ROW = 1
BUTTON = 2
STRING_SELECT = 3
TEXT_INPUT = 4
SECTION = 9
TEXT_DISPLAY = 10
THUMBNAIL = 11
MEDIA_GALLERY = 12
FILE = 13
SEPARATOR = 14
CONTAINER = 17
LABEL = 18
FILE_UPLOAD = 19
RADIO_GROUP = 21
CHECKBOX_GROUP = 22
CHECKBOX = 23

SELECT_TYPES = frozenset({STRING_SELECT, 5, 6, 7, 8})
"""String, user, role, mentionable and channel selects."""
