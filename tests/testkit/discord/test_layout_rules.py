"""Components V2 bodies over raw HTTP: what Discord refuses answers 400/50035 at the field's
path, what it accepts is stored as sent (ids and attachment facts filled in), and the flag
is only ever set, never removed."""

from __future__ import annotations

from typing import Any

import pytest

from testkit.discord import permissions

from .conftest import Scene, Silent
from .raw_api import RawApi, error_paths

V2 = 1 << 15
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


def v2(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"flags": V2, "components": list(components), **fields}


def text(content: str = "hello") -> dict[str, Any]:
    return {"type": 10, "content": content}


def gallery(*urls: str) -> dict[str, Any]:
    return {"type": 12, "items": [{"media": {"url": url}} for url in urls]}


def button(custom_id: str = "b", **fields: Any) -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": "Go", "custom_id": custom_id, **fields}


def row(*components: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(components)}


def section(*texts: dict[str, Any], accessory: Any = None) -> dict[str, Any]:
    found = {"type": 9, "components": list(texts)}
    if accessory is not None:
        found["accessory"] = accessory
    return found


def container(*components: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"type": 17, "components": list(components), **fields}


def thumbnail(url: str = "https://example.com/t.png", **fields: Any) -> dict[str, Any]:
    return {"type": 11, "media": {"url": url}, **fields}


def card() -> dict[str, Any]:
    """A result card as the bot will lay it out: text, the video inline, buttons."""
    return v2(
        container(
            text("## Your video #7 is ready"),
            gallery("attachment://clip.mp4"),
            section(text("a cat on a skateboard"), accessory=button("reroll", label="Re-roll")),
            {"type": 14, "divider": True, "spacing": 2},
            row(button("edit", label="Edit & re-roll"), button("delete", style=4)),
            {"type": 13, "file": {"url": "attachment://clip.mp4"}, "spoiler": False},
            accent_color=0x5865F2,
            spoiler=False,
        )
    )


REFUSED: dict[str, tuple[dict[str, Any], str, str | None]] = {
    "content beside the flag": (
        v2(text(), content="hi"),
        "content",
        "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
    ),
    "embeds beside the flag": (v2(text(), embeds=[{"title": "t"}]), "embeds", None),
    "stickers beside the flag": (v2(text(), sticker_ids=["1"]), "sticker_ids", None),
    "a poll beside the flag": (v2(text(), poll={"question": {"text": "?"}}), "poll", None),
    "41 components": (v2(*(text() for _ in range(41))), "components", "BASE_TYPE_MAX_LENGTH"),
    "41 counting nested ones": (
        v2(container(*(text() for _ in range(40)))),
        "components",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "4,001 characters across text displays": (
        v2(text("a" * 2001), container(text("b" * 2000))),
        "components",
        "COMPONENTS_TEXT_LENGTH_EXCEEDED",
    ),
    "one text display over 4,000": (
        v2(text("a" * 4001)),
        "components.0.content",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "text display without content": (
        v2({"type": 10}),
        "components.0.content",
        "BASE_TYPE_REQUIRED",
    ),
    "empty media gallery": (v2(gallery()), "components.0.items", "BASE_TYPE_BAD_LENGTH"),
    "11 gallery items": (
        v2(gallery(*(f"https://example.com/{i}.png" for i in range(11)))),
        "components.0.items",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "gallery item without media": (
        v2({"type": 12, "items": [{"description": "d"}]}),
        "components.0.items.0.media",
        "BASE_TYPE_REQUIRED",
    ),
    "gallery url not http": (
        v2(gallery("ftp://example.com/a.mp4")),
        "components.0.items.0.media.url",
        "URL_TYPE_INVALID_SCHEME",
    ),
    "gallery naming a missing attachment": (
        v2(gallery("attachment://clip.mp4")),
        "components.0.items.0.media.url",
        "UNFURLED_MEDIA_ITEM_ATTACHMENT_NOT_FOUND",
    ),
    "gallery description over 1024": (
        v2(
            {
                "type": 12,
                "items": [{"media": {"url": "https://e.com/a"}, "description": "d" * 1025}],
            }
        ),
        "components.0.items.0.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "file component with a web url": (
        v2({"type": 13, "file": {"url": "https://example.com/a.zip"}}),
        "components.0.file.url",
        "FILE_COMPONENT_ATTACHMENT_ONLY",
    ),
    "section with four texts": (
        v2(section(text(), text(), text(), text(), accessory=button())),
        "components.0.components",
        "BASE_TYPE_BAD_LENGTH",
    ),
    "section without an accessory": (
        v2(section(text())),
        "components.0.accessory",
        "BASE_TYPE_REQUIRED",
    ),
    "section with a select accessory": (
        v2(section(text(), accessory={"type": 5, "custom_id": "who"})),
        "components.0.accessory.type",
        "UNION_TYPE_CHOICES",
    ),
    "section holding a button": (
        v2(section(button(), accessory=thumbnail())),
        "components.0.components.0.type",
        "UNION_TYPE_CHOICES",
    ),
    "thumbnail description over 1024": (
        v2(section(text(), accessory=thumbnail(description="d" * 1025))),
        "components.0.accessory.description",
        "BASE_TYPE_MAX_LENGTH",
    ),
    "accent colour over 0xFFFFFF": (
        v2(container(text(), accent_color=0x1000000)),
        "components.0.accent_color",
        "NUMBER_TYPE_MAX",
    ),
    "container spoiler not a boolean": (
        v2(container(text(), spoiler="yes")),
        "components.0.spoiler",
        "BASE_TYPE_BOOLEAN",
    ),
    "separator spacing 3": (
        v2({"type": 14, "spacing": 3}),
        "components.0.spacing",
        "NUMBER_TYPE_MAX",
    ),
    "separator divider not a boolean": (
        v2({"type": 14, "divider": "no"}),
        "components.0.divider",
        "BASE_TYPE_BOOLEAN",
    ),
    "a bare button at the top": (v2(button()), "components.0.type", "UNION_TYPE_CHOICES"),
    "a thumbnail at the top": (v2(thumbnail()), "components.0.type", "UNION_TYPE_CHOICES"),
    "a container in a container": (
        v2(container(container(text()))),
        "components.0.components.0.type",
        "UNION_TYPE_CHOICES",
    ),
    "an unknown type": (v2({"type": 99}), "components.0.type", "UNION_TYPE_CHOICES"),
    "a text display in a row": (
        v2(row(text())),
        "components.0.components.0.type",
        "UNION_TYPE_CHOICES",
    ),
    "a text input in a message row": (
        {"components": [row({"type": 4, "custom_id": "t", "style": 1, "label": "T"})]},
        "components.0.components.0.type",
        "UNION_TYPE_CHOICES",
    ),
    "layout components without the flag": (
        {"components": [text()]},
        "components.0.type",
        "UNION_TYPE_CHOICES",
    ),
    "custom ids repeated across a container and a section": (
        v2(container(row(button("same"))), section(text(), accessory=button("same"))),
        "components.1.accessory.custom_id",
        "COMPONENT_CUSTOM_ID_DUPLICATED",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_refused_layout_answers_50035_at_the_fields_path(
    raw: tuple[RawApi, Scene], case: str
) -> None:
    api, scene = raw
    body, path, code = REFUSED[case]
    status, answer = await api.send(scene.channel.id, body)
    assert (status, answer["code"]) == (400, 50035), answer
    paths = error_paths(answer)
    assert path in paths, paths
    if code is not None:
        assert code in paths[path]
    assert scene.fake.channel_messages(scene.channel) == []


ACCEPTED: dict[str, dict[str, Any]] = {
    "40 components": v2(container(*(text() for _ in range(39)))),
    "4,000 characters in all": v2(text("a" * 2000), container(text("b" * 2000))),
    "an external gallery": v2(gallery(*(f"https://example.com/{i}.mp4" for i in range(10)))),
    "a section with a thumbnail": v2(
        section(text(), text(), text(), accessory=thumbnail(description=None, spoiler=True))
    ),
    "a container without colour": v2(container(text(), accent_color=None)),
    "action rows at the top": v2(
        row(button("a")),
        row({"type": 3, "custom_id": "s", "options": [{"label": "x", "value": "x"}]}),
    ),
    "separators": v2({"type": 14}, {"type": 14, "divider": False, "spacing": 1}),
}


@pytest.mark.parametrize("case", sorted(ACCEPTED))
async def test_valid_layout_is_accepted(raw: tuple[RawApi, Scene], case: str) -> None:
    api, scene = raw
    status, answer = await api.send(scene.channel.id, ACCEPTED[case])
    assert status == 200, answer
    assert answer["flags"] & V2


async def test_a_card_with_its_video_is_kept_as_sent_and_readable(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    status, answer = await api.send(scene.channel.id, card(), files={"clip.mp4": VIDEO})
    assert status == 200, answer
    message = scene.fake.message(int(answer["id"]))
    assert message.is_v2
    assert message.content == ""
    assert message.text == "## Your video #7 is ready\na cat on a skateboard"
    [item] = message.media_items
    assert item["media"]["url"] == "attachment://clip.mp4"
    video = message.attachment_for(item)
    assert video is not None
    assert video.read() == VIDEO
    assert item["media"]["attachment_id"] == str(video.id)
    assert [b["custom_id"] for b in message.buttons] == ["reroll", "edit", "delete"]
    assert message.custom_ids == ["reroll", "edit", "delete"]
    [shown] = [c for c in message.iter_components() if c["type"] == 13]
    assert (shown["name"], shown["size"]) == ("clip.mp4", len(VIDEO))
    ids = [c["id"] for c in message.iter_components()]
    assert len(ids) == len(set(ids)) == 11
    assert answer["components"] == message.components


async def test_an_attachment_renamed_in_the_attachments_list_is_the_name_to_use(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    body = v2(gallery("attachment://result.mp4"), attachments=[{"id": 0, "filename": "result.mp4"}])
    status, answer = await api.send(scene.channel.id, body, files={"upload.bin": VIDEO})
    assert status == 200, answer
    message = scene.fake.message(int(answer["id"]))
    assert message.attachment_for(message.media_items[0]) is message.attachment("result.mp4")


async def test_text_display_mentions_ping_under_allowed_mentions(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    alice, bob = scene.alice, scene.bob
    body = v2(
        container(text(f"{alice.mention} your video is ready")),
        text(f"{bob.mention} liked it"),
        allowed_mentions={"parse": [], "users": [str(alice.id)]},
    )
    status, answer = await api.send(scene.channel.id, body)
    assert status == 200, answer
    message = scene.fake.message(int(answer["id"]))
    assert scene.fake.mentions_pinged(message) == {alice.id}
    assert [u["id"] for u in answer["mentions"]] == [str(alice.id)]


async def edited(api: RawApi, scene: Scene, sent: dict[str, Any], body: Any) -> tuple[int, Any]:
    return await api.edit(scene.channel.id, sent["id"], body)


async def test_the_flag_cannot_be_removed_by_an_edit(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    _, sent = await api.send(scene.channel.id, v2(text("first")))
    status, answer = await edited(api, scene, sent, {"flags": 0, "components": [text("again")]})
    assert (status, answer["code"]) == (400, 50035)
    assert {"flags", "components.0.type"} <= set(error_paths(answer))
    status, answer = await edited(api, scene, sent, {"flags": 0, "content": "plain"})
    assert status == 400
    assert "flags" in error_paths(answer)
    assert scene.fake.message(int(sent["id"])).text == "first"


async def test_an_edit_of_a_v2_message_keeps_the_flag_and_refuses_content(
    raw: tuple[RawApi, Scene],
) -> None:
    api, scene = raw
    _, sent = await api.send(scene.channel.id, v2(text("first")))
    status, answer = await edited(api, scene, sent, {"content": "plain"})
    assert status == 400
    assert "content" in error_paths(answer), answer
    status, answer = await edited(api, scene, sent, {"components": [container(text("second"))]})
    assert status == 200, answer
    message = scene.fake.message(int(sent["id"]))
    assert message.is_v2
    assert message.text == "second"
    assert message.edit_count == 1


async def test_setting_the_flag_on_an_edit_needs_the_old_content_reset(
    raw: tuple[RawApi, Scene],
) -> None:
    """Edit Message docs: content must be reset to null and embeds to [] in the same edit."""
    api, scene = raw
    _, sent = await api.send(scene.channel.id, {"content": "old", "embeds": [{"title": "t"}]})
    body = {"flags": V2, "components": [text("new")]}
    status, answer = await edited(api, scene, sent, body)
    assert status == 400
    assert {"content", "embeds"} <= set(error_paths(answer))
    status, answer = await edited(api, scene, sent, {**body, "content": None, "embeds": []})
    assert status == 200, answer
    message = scene.fake.message(int(sent["id"]))
    assert message.is_v2
    assert (message.content, message.embeds, message.text) == ("", [], "new")


async def test_an_edit_names_attachments_it_keeps_or_adds(raw: tuple[RawApi, Scene]) -> None:
    api, scene = raw
    status, sent = await api.send(scene.channel.id, card(), files={"clip.mp4": VIDEO})
    assert status == 200, sent
    [kept] = sent["attachments"]
    dropped = {**card(), "attachments": []}
    status, answer = await edited(api, scene, sent, dropped)
    assert status == 400
    assert "components.0.components.1.items.0.media.url" in error_paths(answer)
    renamed = v2(gallery("attachment://take2.mp4"), attachments=[{"id": kept["id"]}])
    status, answer = await api.edit(
        scene.channel.id, sent["id"], renamed, files={"take2.mp4": b"2"}
    )
    assert status == 200, answer
    message = scene.fake.message(int(sent["id"]))
    assert [a.filename for a in message.attachments] == ["clip.mp4", "take2.mp4"]
    assert message.attachment_for(message.media_items[0]) is message.attachment("take2.mp4")


async def test_a_layout_needs_no_embed_links(raw: tuple[RawApi, Scene]) -> None:
    """Layouts are components, not embeds: Embed Links is not needed for them."""
    api, scene = raw
    scene.fake.set_bot_permissions(
        scene.channel, permissions.DEFAULT_BOT & ~permissions.EMBED_LINKS
    )
    status, answer = await api.send(scene.channel.id, v2(gallery("https://example.com/a.png")))
    assert status == 200, answer


async def test_setting_the_flag_on_a_message_with_files_names_the_files_kept(
    raw: tuple[RawApi, Scene],
) -> None:
    """discord.py's ``Message.edit``: set ``attachments`` when the old message had any."""
    api, scene = raw
    status, sent = await api.send(scene.channel.id, {"content": "old"}, files={"a.mp4": VIDEO})
    assert status == 200, sent
    body = {"flags": V2, "content": None, "components": [gallery("attachment://a.mp4")]}
    status, answer = await edited(api, scene, sent, body)
    assert status == 400
    assert set(error_paths(answer)) == {"attachments"}
    kept = {**body, "attachments": [{"id": sent["attachments"][0]["id"]}]}
    status, answer = await edited(api, scene, sent, kept)
    assert status == 200, answer
    assert scene.fake.message(int(sent["id"])).media_items[0]["media"]["attachment_id"]


async def test_interaction_responses_follow_the_same_rules(silent: Silent) -> None:
    """A callback's errors sit under ``data``; follow-ups and webhook edits have none."""
    interaction = await silent.slash()
    status, answer = await silent.callback(
        interaction, {"type": 4, "data": v2(text(), content="hi")}
    )
    assert status == 400
    assert set(error_paths(answer)) == {"data.content"}
    assert not interaction.acked
    body = {"type": 4, "data": v2(gallery("attachment://clip.mp4"))}
    status, answer = await silent.callback(interaction, body, files={"clip.mp4": VIDEO})
    assert status == 204, answer
    original = interaction.original
    assert original is not None
    assert original.attachment_for(original.media_items[0]) is original.attachment("clip.mp4")
    status, answer = await silent.webhook("POST", interaction, v2(gallery("attachment://x.mp4")))
    assert status == 400
    assert set(error_paths(answer)) == {"components.0.items.0.media.url"}
    status, answer = await silent.webhook(
        "PATCH", interaction, {"flags": 0, "components": []}, message="@original"
    )
    assert status == 400
    assert "flags" in error_paths(answer)


async def test_a_deferred_reply_becomes_a_layout_by_editing_the_original(silent: Silent) -> None:
    """Discord's docs: a type-5 defer takes only EPHEMERAL; a V2 reply is made by editing
    the original response."""
    interaction = await silent.slash()
    status, _ = await silent.callback(interaction, {"type": 5})
    assert status == 204
    status, answer = await silent.webhook(
        "PATCH",
        interaction,
        v2(container(text("done"), gallery("attachment://clip.mp4"))),
        message="@original",
        files={"clip.mp4": VIDEO},
    )
    assert status == 200, answer
    original = await interaction.wait_original(lambda m: not m.loading)
    assert original.is_v2
    assert original.text == "done"
    assert original.attachment_for(original.media_items[0]) is not None


async def test_an_update_from_a_button_cannot_drop_the_flag(silent: Silent) -> None:
    api, scene = silent.api, silent.scene
    status, sent = await api.send(scene.channel.id, v2(container(row(button("go")))))
    assert status == 200, sent
    click = await scene.fake.click_button(int(sent["id"]), "go", scene.alice)
    status, answer = await silent.callback(
        click, {"type": 7, "data": {"flags": 0, "components": [row(button("again"))]}}
    )
    assert status == 400
    assert set(error_paths(answer)) == {"data.flags"}
    status, answer = await silent.callback(
        click, {"type": 7, "data": {"components": [text("clicked")]}}
    )
    assert status == 204, answer
    assert scene.fake.message(int(sent["id"])).text == "clicked"
