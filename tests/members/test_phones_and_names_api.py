"""Phones and names as people type them, through the API on both engines: a member added or
edited with a phone typed any way (full-width digits, +86, separators, invisible marks) gets
the one stored number, a bad one is refused in Chinese; the search finds a number typed that
way and a name written with any look-alike middle dot or kind of space."""

from __future__ import annotations

import re

import pytest

from gridpoints.members.tables import Member
from tests.conftest import bearer

MEMBERS = "/api/v1/members"
LATIN = re.compile(r"[A-Za-z]")


def _new(world, **fields) -> dict:
    return {
        "name": "新成员",
        "phone": "13712340001",
        "category": "resident",
        "org_unit_id": world.units["A1-B1-U1"],
        **fields,
    }


async def _add(client, world, **fields) -> dict:
    response = await client.post(
        MEMBERS, json=_new(world, **fields), headers=bearer(client, world.leader_a)
    )
    assert response.status_code == 201, response.text
    return response.json()


async def _found(client, who: int, q: str) -> list[str]:
    response = await client.get(MEMBERS, params={"q": q}, headers=bearer(client, who))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return sorted(m["name"] for m in body["items"])


# --- phones ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("１３７１２３４０００１", id="full-width-digits"),  # the reported input
        pytest.param("＋８６　１３７－１２３４－０００１", id="full-width-plus-86"),
        pytest.param("\u202a+86 137-1234-0001\u202c", id="direction-embedding"),
        pytest.param("137\u200b1234\u200b0001", id="zero-width-spaces"),
        pytest.param("0086 (137) 1234.0001", id="0086-brackets-dots"),
    ],
)
async def test_a_member_added_with_a_phone_typed_any_way_gets_its_eleven_digits(
    client, world, typed
):
    body = await _add(client, world, phone=typed)
    assert body["phone"] == "13712340001"
    assert await Member.count().where(Member.phone == "13712340001") == 1


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        pytest.param("１２３", "不是有效的手机号", id="full-width-too-short"),
        pytest.param("call me maybe", "手机号只能包含数字（可带 +86 区号）", id="letters"),
        pytest.param("010 6512 3456", "请填写手机号，不是座机号", id="landline"),
        pytest.param("", "手机号为空", id="empty"),
        pytest.param("1" * 100, "手机号过长", id="too-long"),
    ],
)
async def test_a_bad_phone_is_refused_with_a_chinese_reason_and_nothing_is_written(
    client, world, typed, reason
):
    before = await Member.count()
    response = await client.post(
        MEMBERS, json=_new(world, phone=typed), headers=bearer(client, world.leader_a)
    )
    assert response.status_code == 400, response.text
    [problem] = response.json()["errors"]
    assert problem["field"] == "phone"
    assert problem["detail"] == reason and not LATIN.search(problem["detail"])
    assert await Member.count() == before


async def test_an_edit_takes_a_full_width_phone_and_knows_it_is_taken(client, world):
    path = f"{MEMBERS}/{world.member_a}"
    headers = bearer(client, world.leader_a)
    edited = await client.patch(
        path, json={"phone": "＋８６ １３７ １２３４ ０００２"}, headers=headers
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["phone"] == "13712340002"
    taken = "\u200e" + "".join(chr(ord(d) + 0xFEE0) for d in world.phones["leader_a"])
    refused = await client.patch(path, json={"phone": taken}, headers=headers)
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "phone_taken"


@pytest.mark.parametrize("typed", ["０００５", "+86 139 0000 0005", "139-0000-0005", "１３９０"])
async def test_a_search_finds_a_phone_typed_any_way_but_only_for_those_who_see_it(
    client, world, typed
):
    # member_a's number is 13900000005; the admin manages it, a volunteer sees it masked.
    found = await client.get(MEMBERS, params={"q": typed}, headers=bearer(client, world.admin))
    assert world.member_a in {m["id"] for m in found.json()["items"]}
    viewer = await client.get(MEMBERS, params={"q": typed}, headers=bearer(client, world.viewer_a))
    assert world.member_a not in {m["id"] for m in viewer.json()["items"]}


# --- names -------------------------------------------------------------------------------

GULI = "古丽米热·艾比布力"  # stored with the standard middle dot U+00B7
AYI = "阿依古丽•买买提"  # stored as it was typed, with a bullet U+2022
DOTS = ["·", "•", "・", "‧", ".", "･", "．", "\u2219", "\u22c5"]


async def test_a_name_is_found_whichever_look_alike_middle_dot_the_search_uses(client, world):
    await _add(client, world, name=GULI, phone="13712340011")
    await _add(client, world, name=AYI, phone="13712340012")
    await _add(client, world, name="古丽米热艾比布力", phone="13712340013")
    for dot in DOTS:
        # The reported input is the bullet: `古丽米热•艾比布力`.
        assert await _found(client, world.leader_a, f"古丽米热{dot}艾比布力") == [GULI], dot
        assert await _found(client, world.leader_a, f"阿依古丽{dot}买买") == [AYI], dot
    assert await _found(client, world.leader_a, "·") == sorted([GULI, AYI])


async def test_a_name_is_found_whichever_kind_of_space_the_search_uses(client, world):
    await _add(client, world, name="热依拉 木沙", phone="13712340021")
    # A full-width space typed into the name is stored as a plain one.
    stored = await _add(client, world, name="Mary\u3000Ann", phone="13712340022")
    assert stored["name"] == "Mary Ann"
    for space in [" ", "\u3000", "\u00a0", "  ", "\u3000\u3000"]:
        assert await _found(client, world.leader_a, f"热依拉{space}木沙") == ["热依拉 木沙"]
        assert await _found(client, world.leader_a, f"mary{space}ANN") == ["Mary Ann"]


async def test_wildcards_in_a_search_are_taken_literally(client, world):
    await _add(client, world, name="张_三", phone="13712340031")
    await _add(client, world, name="百分之100%", phone="13712340032")
    assert await _found(client, world.leader_a, "%") == ["百分之100%"]
    assert await _found(client, world.leader_a, "_") == ["张_三"]
    assert await _found(client, world.leader_a, "!") == []
