"""Slack's published Block Kit limits, checked on every payload the tests see.

Written from Slack's reference (blocks, block elements, composition objects, views),
independently of the renderer's own constants.
"""

from __future__ import annotations

from typing import Any

MESSAGE_BLOCKS = 50
MODAL_BLOCKS = 100
SECTION_TEXT = 3000
SECTION_FIELDS = 10
FIELD_TEXT = 2000
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
ACTION_ID = 255
BLOCK_ID = 255
ACTIONS_ELEMENTS = 25
CONTEXT_ELEMENTS = 10
CHECKBOX_OPTIONS = 10
OPTION_TEXT = 75
OPTION_VALUE = 150
HEADER_TEXT = 150
MODAL_TITLE = 24
MODAL_BUTTON = 24
PRIVATE_METADATA = 3000
INPUT_LABEL = 2000
CALLBACK_ID = 255
TEXT_TYPES = ("plain_text", "mrkdwn")


def problems(payload: dict[str, Any]) -> list[str]:
    """Every broken limit in a message payload (`blocks`) or a view (`type: modal`)."""
    found: list[str] = []
    if payload.get("type") == "modal":
        _view(payload, found)
        return found
    blocks = payload.get("blocks")
    if blocks is None:
        return found
    if isinstance(blocks, str):
        return found  # form-encoded JSON: the caller decodes it first
    if len(blocks) > MESSAGE_BLOCKS:
        found.append(f"{len(blocks)} blocks in a message (max {MESSAGE_BLOCKS})")
    for i, block in enumerate(blocks):
        _block(block, f"blocks[{i}]", found)
    return found


def _view(view: dict[str, Any], found: list[str]) -> None:
    blocks = view.get("blocks", [])
    if len(blocks) > MODAL_BLOCKS:
        found.append(f"{len(blocks)} blocks in a modal (max {MODAL_BLOCKS})")
    for name, limit in (("title", MODAL_TITLE), ("submit", MODAL_BUTTON), ("close", MODAL_BUTTON)):
        if name in view:
            _text(view[name], f"view.{name}", limit, found, plain_only=True)
    if "title" not in view:
        found.append("a modal needs a title")
    if len(view.get("private_metadata", "")) > PRIVATE_METADATA:
        found.append("view.private_metadata is too long")
    if len(view.get("callback_id", "")) > CALLBACK_ID:
        found.append("view.callback_id is too long")
    for i, block in enumerate(blocks):
        _block(block, f"view.blocks[{i}]", found)


def _block(block: dict[str, Any], where: str, found: list[str]) -> None:
    kind = block.get("type")
    if len(block.get("block_id", "")) > BLOCK_ID:
        found.append(f"{where}.block_id is too long")
    if kind == "section":
        if "text" not in block and "fields" not in block:
            found.append(f"{where}: a section needs text or fields")
        if "text" in block:
            _text(block["text"], f"{where}.text", SECTION_TEXT, found)
        fields = block.get("fields", [])
        if len(fields) > SECTION_FIELDS:
            found.append(f"{where}: {len(fields)} fields (max {SECTION_FIELDS})")
        for j, field in enumerate(fields):
            _text(field, f"{where}.fields[{j}]", FIELD_TEXT, found)
        if "accessory" in block:
            _element(block["accessory"], f"{where}.accessory", found)
    elif kind == "actions":
        elements = block.get("elements", [])
        if not elements or len(elements) > ACTIONS_ELEMENTS:
            found.append(f"{where}: {len(elements)} elements (1 to {ACTIONS_ELEMENTS})")
        ids = [e.get("action_id") for e in elements if e.get("action_id")]
        if len(ids) != len(set(ids)):
            found.append(f"{where}: action_ids repeat within the block")
        for j, element in enumerate(elements):
            _element(element, f"{where}.elements[{j}]", found)
    elif kind == "context":
        elements = block.get("elements", [])
        if not elements or len(elements) > CONTEXT_ELEMENTS:
            found.append(f"{where}: {len(elements)} elements (1 to {CONTEXT_ELEMENTS})")
        for j, element in enumerate(elements):
            if element.get("type") in TEXT_TYPES:
                _text(element, f"{where}.elements[{j}]", SECTION_TEXT, found)
    elif kind == "header":
        _text(block.get("text", {}), f"{where}.text", HEADER_TEXT, found, plain_only=True)
    elif kind == "input":
        _text(block.get("label", {}), f"{where}.label", INPUT_LABEL, found, plain_only=True)
        _element(block.get("element", {}), f"{where}.element", found)
    elif kind == "divider":
        pass
    else:
        found.append(f"{where}: unexpected block type {kind!r}")


def _element(element: dict[str, Any], where: str, found: list[str]) -> None:
    kind = element.get("type")
    if len(element.get("action_id", "")) > ACTION_ID:
        found.append(f"{where}.action_id is too long")
    if kind == "button":
        _text(element.get("text", {}), f"{where}.text", BUTTON_TEXT, found, plain_only=True)
        if len(element.get("value", "")) > BUTTON_VALUE:
            found.append(f"{where}.value is longer than {BUTTON_VALUE}")
        if element.get("style") not in (None, "primary", "danger"):
            found.append(f"{where}.style is not primary or danger")
    elif kind == "checkboxes":
        options = element.get("options", [])
        if not options or len(options) > CHECKBOX_OPTIONS:
            found.append(f"{where}: {len(options)} options (1 to {CHECKBOX_OPTIONS})")
        for j, option in enumerate(options):
            _text(option.get("text", {}), f"{where}.options[{j}].text", OPTION_TEXT, found)
            if len(option.get("value", "")) > OPTION_VALUE:
                found.append(f"{where}.options[{j}].value is too long")
    elif kind == "plain_text_input":
        if element.get("max_length", 0) > 3000:
            found.append(f"{where}.max_length is above 3000")
    else:
        found.append(f"{where}: unexpected element type {kind!r}")


def _text(
    obj: dict[str, Any], where: str, limit: int, found: list[str], *, plain_only: bool = False
) -> None:
    kind = obj.get("type")
    if kind not in (("plain_text",) if plain_only else TEXT_TYPES):
        found.append(f"{where}: text type {kind!r} is not allowed here")
    text = obj.get("text", "")
    if not text:
        found.append(f"{where}: empty text")
    if len(text) > limit:
        found.append(f"{where}: {len(text)} characters (max {limit})")
