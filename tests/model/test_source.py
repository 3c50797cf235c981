"""YAML/JSON parsing with line numbers (cmesh.model.source)."""

from cmesh.model import parse_documents, render_path
from cmesh.model.source import iter_objects


def test_every_field_has_its_line():
    docs, diags = parse_documents("a: 1\nb:\n  c:\n  - x\n  - y: 2\n", "f.yaml")
    assert not diags
    d = docs[0]
    assert d.line_of(("a",)) == 1
    assert d.line_of(("b", "c")) == 3
    assert d.line_of(("b", "c", 1, "y")) == 5
    # unknown paths fall back to the nearest known parent
    assert d.line_of(("b", "c", 1, "zzz")) == 5


def test_multi_document_lines_are_file_relative():
    docs, _ = parse_documents("a: 1\n---\nb: 2\n---\n\n---\nc: 3\n", "f.yaml")
    assert [d.line for d in docs] == [1, 3, 7]
    assert [d.data for d in docs] == [{"a": 1}, {"b": 2}, {"c": 3}]


def test_syntax_error_names_file_and_line():
    _, diags = parse_documents("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml")
    assert len(diags) == 1
    assert diags[0].file == "bad.yaml" and diags[0].line >= 2
    assert "YAML syntax error" in diags[0].message


def test_duplicate_keys_are_an_error_as_in_kubectl_strict_decoding():
    _, diags = parse_documents("a: 1\na: 2\n", "f.yaml")
    assert [d.message for d in diags] == ["duplicate key 'a'"]
    assert diags[0].line == 2


def test_yaml_1_1_booleans_like_sigs_k8s_yaml():
    docs, _ = parse_documents("a: yes\nb: 'yes'\nc: on\n", "f.yaml")
    assert docs[0].data == {"a": True, "b": "yes", "c": True}


def test_json_is_read_with_lines():
    docs, diags = parse_documents(
        '{\n  "kind": "List",\n  "items": [\n    {"a": 1}\n  ]\n}\n', "f.json"
    )
    assert not diags
    objs = list(iter_objects(docs[0]))
    assert objs[0].data == {"a": 1} and objs[0].line == 4


def test_list_kind_is_unfolded_with_positions():
    text = "kind: List\nitems:\n- kind: A\n  x: 1\n- kind: B\n  y: 2\n"
    docs, _ = parse_documents(text, "f.yaml")
    objs = list(iter_objects(docs[0]))
    assert [o.data["kind"] for o in objs] == ["A", "B"]
    assert objs[1].line_of(("y",)) == 6


def test_render_path():
    assert render_path(("spec", "ingress", 0, "toPorts", 1)) == "spec.ingress[0].toPorts[1]"


def test_items_of_a_typed_list_take_their_kind_from_it_as_kubectl_does():
    text = "apiVersion: v1\nkind: NamespaceList\nitems:\n- metadata: {name: a}\n- kind: Pod\n"
    docs, _ = parse_documents(text, "f.yaml")
    objs = list(iter_objects(docs[0]))
    assert [(o.data.get("apiVersion"), o.data["kind"]) for o in objs] == [
        ("v1", "Namespace"),
        (None, "Pod"),  # an item's own kind is kept
    ]
    assert objs[0].line == 4


def test_aliases_and_merge_keys_expand():
    """An explicit key overrides a merged one, before or after the ``<<`` (YAML merge keys, as
    go-yaml resolves them before kubectl's strict duplicate check); it was a duplicate-key
    error."""
    docs, diags = parse_documents("d: &d {a: 1, b: [x]}\ne:\n  <<: *d\n  b: [y]\nf: *d\n", "f.yaml")
    assert not diags
    assert docs[0].data == {
        "d": {"a": 1, "b": ["x"]},
        "e": {"a": 1, "b": ["y"]},
        "f": docs[0].data["d"],
    }


def test_a_recursive_anchor_is_an_error_not_a_crash():
    """go-yaml refuses an anchor whose value contains itself; so does cmesh (it was a
    RecursionError), and the next document is still read."""
    docs, diags = parse_documents("x: &a [1, *a]\n---\ny: 2\n", "f.yaml")
    assert [d.data for d in docs] == [{"y": 2}]
    assert [(d.line, d.message) for d in diags] == [
        (1, "YAML: an anchor's value contains itself (a recursive alias)")
    ]


def test_an_alias_bomb_is_refused_as_go_yaml_refuses_it():
    """ "Billion laughs": nine levels of nine aliases would expand to 9**9 lists; go-yaml stops
    when over 99% of the decoded nodes come from aliases (decode.go allowedAliasRatio)."""
    lines = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    docs, diags = parse_documents("\n".join(lines) + "\n", "bomb.yaml")
    assert docs == [] and [d.message for d in diags] == [
        "YAML: the document contains excessive aliasing"
    ]
    # a few levels are legitimate reuse, not a bomb
    docs, diags = parse_documents("\n".join(lines[:3]) + "\n", "ok.yaml")
    assert not diags and len(docs[0].data["a2"]) == 9
