"""Personas through the running platform (seed 003's bodies): presets, CRUD scoped to the
owner, validation, and a persona shaping a generated script and a render."""

from __future__ import annotations

from e2e_client import Api, assert_error, completed_task, new_drama

SEED_BODY = {
    "name": "营销专家",
    "persona_type": "marketing",
    "style": "persuasive",
    "target_audience": "潜在客户",
    "characteristics": "善于发现产品价值，能够用通俗易懂的方式传达复杂信息",
    "tone": "友好且具有说服力",
    "keywords": ["营销", "销售", "价值", "客户"],
}


def test_presets_and_crud_scoped_to_the_owner(api: Api, other_api: Api) -> None:
    presets = api.get("/personas/preset").json()["data"]
    assert len(presets) >= 3 and all(p["is_preset"] for p in presets)
    r = api.post("/personas", json={**SEED_BODY, "voice": "narrator-zh"})
    assert r.status_code == 201, r.text
    persona = r.json()["data"]
    assert {k: persona[k] for k in SEED_BODY} == SEED_BODY and persona["is_preset"] is False
    pid = persona["id"]
    listed = api.get("/personas", params={"per_page": 100}).json()
    assert pid in [p["id"] for p in listed["data"]]
    assert listed["pagination"]["total"] == len(presets) + 1

    r = api.put(f"/personas/{pid}", json={"tone": "冷静", "keywords": ["价值"]})
    assert r.status_code == 200, r.text
    updated = r.json()["data"]
    assert updated["tone"] == "冷静" and updated["keywords"] == ["价值"]
    assert updated["style"] == "persuasive"  # absent fields stay

    for call in (
        other_api.get(f"/personas/{pid}"),
        other_api.put(f"/personas/{pid}", json={"tone": "x"}),
        other_api.delete(f"/personas/{pid}"),
    ):
        assert_error(call, 404, 1002)
    assert pid not in [p["id"] for p in other_api.get("/personas").json()["data"]]
    assert_error(api.put(f"/personas/{presets[0]['id']}", json={"tone": "x"}), 403, 1004)
    assert_error(api.delete(f"/personas/{presets[0]['id']}"), 403, 1004)
    assert api.get(f"/personas/{presets[0]['id']}").status_code == 200

    assert api.delete(f"/personas/{pid}").json()["data"] == {"persona_id": pid}
    assert_error(api.get(f"/personas/{pid}"), 404, 1002)


def test_bad_personas_are_refused(api: Api) -> None:
    for body in (
        {**SEED_BODY, "name": ""},
        {**SEED_BODY, "name": "n" * 101},
        {**SEED_BODY, "keywords": ["k"] * 21},
        {**SEED_BODY, "keywords": ["k" * 41]},
        {**SEED_BODY, "voice": "../etc"},
        {**SEED_BODY, "voice": "no-such-voice"},
        {**SEED_BODY, "unknown": 1},
    ):
        r = api.post("/personas", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["code"] == 1001 and r.json()["error"]["reason"]
    r = api.post("/personas", json={"name": "ok", "type": "narrative"})  # `type` alias
    assert r.status_code == 201 and r.json()["data"]["persona_type"] == "narrative"


def test_a_persona_shapes_the_generated_script(api: Api, other_api: Api) -> None:
    body = {**SEED_BODY, "style": "film noir", "tone": "dark", "voice": "male-2"}
    pid = api.post("/personas", json=body).json()["data"]["id"]
    drama_id = new_drama(api)
    story = "Mara walked into the harbour bar. Jon said: 'The ship leaves at dawn.'"
    r = api.post(
        f"/dramas/{drama_id}/scripts/generate",
        json={"prompt": story, "length": "short", "personaId": pid},
    )
    result = completed_task(api, r)["result"]
    meta = result["metadata"]
    assert meta["persona"]["id"] == pid and meta["tone"] == "dark"
    assert meta["style"] == "film noir, dark"
    assert "Tone: dark" in meta["persona_prompt"] and "Style: film noir" in meta["persona_prompt"]
    prompts = " ".join(s.get("prompt", "") for s in result["scenes"])
    assert "film noir" in prompts  # the style knob of the offline screenwriter

    other_drama = new_drama(other_api)
    r = other_api.post(
        f"/dramas/{other_drama}/scripts/generate", json={"prompt": story, "persona_id": pid}
    )
    assert_error(r, 404, 1002)  # another user's persona
    r = other_api.post("/pipeline/render", json={"story": story, "options": {"persona_id": pid}})
    assert_error(r, 404, 1002)


def test_a_persona_narrates_the_render(api: Api) -> None:
    pid = api.post("/personas", json={"name": "Bright", "style": "watercolor", "voice": "female-2"})
    pid = pid.json()["data"]["id"]
    options = {
        "persona_id": pid,
        "scene_count": 1,
        "video": {"fps": 8, "resolution": "180x320", "transition": "none"},
        "music": False,
    }
    story = "Mara walked into the harbour bar and ordered tea."
    result = completed_task(
        api, api.post("/pipeline/render", json={"story": story, "options": options})
    )
    assert result["result"]["voices"]["narrator"] == "female-2"  # the persona's voice narrates
    assert "watercolor" in " ".join(s["prompt"] for s in result["result"]["shots"])
