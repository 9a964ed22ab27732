"""YAML files: Kubernetes objects, compose files and Helm values, and the bytes an edit leaves."""

from __future__ import annotations

import pytest
import yaml

from tagmgr.documents.splice import Edit, splice
from tagmgr.documents.yamldoc import TOOL_RULES
from tagmgr.filerefs import yaml as yamlrefs
from tagmgr.filerefs.find import find_references

D = "sha256:" + "d" * 64
LOADERS = [yaml.SafeLoader] + ([yaml.CSafeLoader] if yaml.__with_libyaml__ else [])


@pytest.fixture(autouse=True, params=LOADERS, ids=lambda loader: loader.__name__)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test under PyYAML's parser and under libyaml's: they mark plain scalars apart."""
    monkeypatch.setattr(yamlrefs, "_LOADER", request.param)


def found(text: str, name: str = "values.yaml") -> list[tuple[str, str, str]]:
    refs = find_references(name, text)
    sites = [
        (f"{s.location.line}:{s.location.column}", s.context, str(s.reference))
        for s in refs.references
    ]
    return sites + [
        (f"{u.location.line}:{u.location.column}", u.context, f"unreadable: {u.reason}")
        for u in refs.unreadable
    ]


def pinned(text: str, tag: str, digest: str | None = None) -> str:
    refs = find_references("values.yaml", text)
    edits: list[Edit] = []
    for site in refs.references:
        rewrite = site.rewrite(tag, digest)
        assert not isinstance(rewrite, str), rewrite
        edits += rewrite
    return splice(text, edits)


def test_helm_split_forms() -> None:
    """The split form in every spelling charts use: ``repository`` with ``registry``, ``tag``,
    ``version`` or ``digest`` beside it, block or flow; ingress-nginx's ``image`` beside
    ``registry``; under an ``image:`` key the repository alone. A chart dependency (a repository
    URL and a version) is not an image."""
    text = (
        "controller:\n  registry: registry.example.com\n  repository: ingress/controller\n"
        "  tag: v1.9.0\n"
        "web: {image: {registry: registry.example.com, repository: web/app, tag: '2.0'}}\n"
        "versioned:\n  image:\n    repository: team/tool\n    version: 1.4.2\n"
        "nginx:\n  image:\n    registry: registry.k8s.io\n    image: ingress-nginx/controller\n"
        '    tag: "v1.10.0"\n    digest: ""\n'
        "bare:\n  image:\n    repository: redis\n"
        "dependencies:\n- name: postgresql\n  version: 12.1.0\n"
        "  repository: https://charts.bitnami.com/bitnami\n"
    )
    assert found(text) == [
        ("2:3", "controller", "registry.example.com/ingress/controller:v1.9.0"),
        ("5:14", "web.image", "registry.example.com/web/app:2.0"),
        ("8:5", "versioned.image", "docker.io/team/tool:1.4.2"),
        ("12:5", "nginx.image", "registry.k8s.io/ingress-nginx/controller:v1.10.0"),
        ("18:5", "bare.image", "docker.io/library/redis"),
    ]


def test_a_digest_keeps_the_quoting_byte_for_byte() -> None:
    """docs/commands/pin-refs.md: only the characters of the reference change. A plain ``tag: v1``
    stays plain with ``@sha256:...`` after it (YAML 1.1 and 1.2 read it as text), in block and flow
    style; a quoted one stays quoted as it was."""
    text = (
        "a:\n  repository: team/a\n  tag: v1  # plain\n"
        "b: {repository: team/b, tag: v1}\n"
        "c:\n  repository: team/c\n  tag: 'v1'\n"
        'd:\n  repository: team/d\n  tag: "v1"\n  digest:\n'
    )
    assert pinned(text, "v2", D) == (
        f"a:\n  repository: team/a\n  tag: v2@{D}  # plain\n"
        f"b: {{repository: team/b, tag: v2@{D}}}\n"
        f"c:\n  repository: team/c\n  tag: 'v2@{D}'\n"
        f'd:\n  repository: team/d\n  tag: "v2"\n  digest: {D}\n'
    )


def test_a_plain_value_that_would_become_a_number_is_quoted() -> None:
    """Deliberately not byte for byte: a plain ``tag: v1`` given the tag ``2.0`` would read as
    the number 2.0, so the new value is quoted."""
    assert pinned("repository: team/a\ntag: v1\n", "2.0") == 'repository: team/a\ntag: "2.0"\n'


def test_kubernetes_containers_init_containers_cronjobs_and_image_volumes() -> None:
    text = (
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n"
        "        spec:\n          initContainers:\n          - image: busybox:1.36\n"
        "          containers:\n          - image: 'team/job:v1'\n"
        "          volumes:\n          - name: models\n            image:\n"
        "              reference: registry.example.com/models:v3\n"
        "              pullPolicy: IfNotPresent\n"
    )
    spec = "spec.jobTemplate.spec.template.spec"
    assert found(text, "cronjob.yaml") == [
        ("9:20", f"{spec}.initContainers[0].image", "docker.io/library/busybox:1.36"),
        ("11:21", f"{spec}.containers[0].image", "docker.io/team/job:v1"),
        ("15:26", f"{spec}.volumes[0].image.reference", "registry.example.com/models:v3"),
    ]


def test_compose_build_names_the_image_it_makes() -> None:
    """A service with ``build:`` and a bare ``image:`` names the image the build makes (compose
    tags the build with it); one with a registry path is also what compose pulls first."""
    text = (
        "services:\n"
        "  debug:\n    build: .\n    image: app-local-debug\n"
        "  api:\n    build: {context: api}\n    image: registry.example.com/team/api:1.0\n"
        "  db:\n    image: postgres:16\n"
    )
    assert found(text, "compose.yaml") == [
        ("7:12", "services.api.image", "registry.example.com/team/api:1.0"),
        ("9:12", "services.db.image", "docker.io/library/postgres:16"),
    ]


def test_values_that_are_not_references_are_unreadable() -> None:
    text = (
        'a:\n  image: "{{ .Values.image }}"\n'
        "b:\n  image: ${REGISTRY}/app:${TAG:-1}\n"
        "c:\n  image: 42\n"
        "d:\n  image:\n"
        "e:\n  image: ''\n"
    )
    refs = find_references("deploy.yaml", text)
    assert refs.references == []
    assert [(str(u.location), u.context, u.reason, u.template) for u in refs.unreadable] == [
        (
            "deploy.yaml:2:10",
            "a.image",
            "a template, not an image reference: render it first (helm template)",
            True,
        ),
        (
            "deploy.yaml:4:10",
            "b.image",
            "its value comes from a variable; tagmgr cannot tell which image it names",
            False,
        ),
        ("deploy.yaml:6:10", "c.image", "not an image reference: YAML reads 42 as a number", False),
    ]


def test_yaml_that_does_not_parse_is_read_as_text_and_said_so() -> None:
    template = "{{- if .Values.enabled }}\nimage: team/app:v1\n{{- end }}\n"
    refs = find_references("chart/templates/deploy.yaml", template)
    assert [str(s.reference) for s in refs.references] == ["docker.io/team/app:v1"]
    assert [(u.location.line, u.template) for u in refs.unreadable] == [(1, True)]
    broken = "a: [\nimage: team/app:v1\n"
    refs = find_references("broken.yml", broken)
    (reason,) = [u.reason for u in refs.unreadable]  # the parser's words: libyaml's or PyYAML's
    assert reason.startswith("not valid YAML (")
    assert reason.endswith("): only the images written out as text are read")
    assert not refs.unreadable[0].template


def test_a_file_with_no_suffix_is_yaml_when_it_parses_as_a_mapping() -> None:
    """``<(kubectl get deploy -o yaml)`` is /dev/fd/63: read as YAML; a script is text."""
    assert found("spec:\n  containers:\n  - image: nginx:1.25\n", "/dev/fd/63") == [
        ("3:12", "spec.containers[0].image", "docker.io/library/nginx:1.25")
    ]
    assert found("#!/bin/sh\ndocker run team/app:v1\n", "run") == [
        ("2:12", "", "docker.io/team/app:v1")
    ]


def test_json_with_tabs_and_a_byte_order_mark() -> None:
    text = '\ufeff{\n\t"image":\t"team/app:v1"\n}\n'
    assert found(text, "pod.json") == [("2:12", "image", "docker.io/team/app:v1")]
    refs = find_references("pod.json", text)
    (site,) = refs.references
    edits = site.rewrite("v2", None)
    assert not isinstance(edits, str)
    assert splice(text, edits) == '\ufeff{\n\t"image":\t"team/app:v2"\n}\n'


def test_depth_is_bounded_as_in_every_other_yaml_reader() -> None:
    """No recursion limit of its own: up to ``TOOL_RULES.max_depth`` is walked; deeper is listed
    at the stated limit, whichever parser read it (a byte order mark sends it to PyYAML's)."""
    limit = TOOL_RULES.max_depth
    within = "".join("  " * i + "a:\n" for i in range(limit - 1)) + "  " * (limit - 1)
    within += "image: team/app:v1\n"
    assert [str(s.reference) for s in find_references("x.yaml", within).references] == [
        "docker.io/team/app:v1"
    ]
    for deeper in (
        "".join("  " * i + "a:\n" for i in range(900)) + "  " * 900 + "image: team/app:v1\n",
        "\ufeff" + "".join("  " * i + "a:\n" for i in range(3000)),
    ):
        refs = find_references("x.yaml", deeper)
        (unreadable,) = refs.unreadable
        assert not refs.references
        assert unreadable.reason == TOOL_RULES.too_deep()


SHARED = (
    "its value is a YAML anchor that something other than an image reference reads too (an alias"
    " elsewhere); edit it by hand"
)


def test_a_value_something_else_reads_too_is_not_edited() -> None:
    """A chart's appVersion anchored for an image's tag would change with it: refused."""
    for text in (
        "appVersion: &v team/c:build-1\nimage: *v\n",
        "appVersion: &t build-1\nimage:\n  repository: team/c\n  tag: *t\n",
    ):
        [site] = find_references("values.yaml", text).references
        assert site.rewrite("v1", None) == SHARED


def test_an_anchor_only_references_read_is_edited_once_where_it_is_written() -> None:
    """Two entries of one repository sharing a tag anchor, and compose's extension field holding
    an image for its services: each reference gives the same edit of the anchor's text."""
    split = (
        "a:\n  image:\n    repository: team/a\n    tag: &t build-1\n"
        "b:\n  image:\n    repository: team/a\n    tag: *t\n"
    )
    compose = "x-img: &img team/a:build-1\nservices:\n  a: {image: *img}\n  b: {image: *img}\n"
    for text in (split, compose):
        refs = find_references("values.yaml", text)
        edits = {site.rewrite("v1", None) for site in refs.references}
        assert len(refs.references) == 2
        [rewritten] = edits
        assert not isinstance(rewritten, str), rewritten
        assert splice(text, rewritten) == text.replace("build-1", "v1", 1)
