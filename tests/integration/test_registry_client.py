"""The registry client against real registries: Debian's docker-registry on 127.0.0.1
(tests/conftest.py). Its logic against a scripted registry: tests/unit/registry/test_client.py.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tagmgr.errors import AuthenticationError, CertificateError, RegistryError
from tagmgr.oci.descriptor import Descriptor
from tagmgr.registry import Credentials, Registries, RegistryClient, RegistryOptions
from tagmgr.registry.policy import RetryPolicy
from tests.support.oci import KINDS, ImageFactory
from tests.support.push import push
from tests.support.registry import RegistryServer, SecureRegistry
from tests.support.scripted import (
    no_credentials_from_this_machine,  # noqa: F401 (autouse: no auth file of this machine is read)
    write_authfile,
)


@pytest.fixture
def plain(registry: RegistryServer) -> Iterator[RegistryClient]:
    client = RegistryClient(
        registry.address, RegistryOptions(retry=RetryPolicy(request_timeout=10.0))
    )
    yield client
    client.close()


@pytest.mark.integration
def test_list_tags_with_small_pages_returns_every_tag(
    registry: RegistryServer, plain: RegistryClient, repo: str, images: ImageFactory
) -> None:
    image = images.oci()
    tags = ["t1", "t2", "t3", "t4", "t5"]
    for tag in tags:
        push(registry.address, repo, tag, image)
    assert sorted(plain.list_tags(repo, page_size=2)) == tags
    assert plain.list_tags(f"{repo}-never-pushed") == []


@pytest.mark.integration
@pytest.mark.parametrize("kind", sorted(KINDS))
def test_head_and_get_give_the_exact_digest_of_every_kind(
    registry: RegistryServer, plain: RegistryClient, repo: str, images: ImageFactory, kind: str
) -> None:
    image = images.build(kind)
    push(registry.address, repo, "v1", image)
    expected = Descriptor(image.media_type, image.digest, image.size)
    assert plain.head_manifest(repo, "v1") == expected
    assert plain.head_manifest(repo, image.digest) == expected
    assert plain.get_manifest(repo, "v1") == (expected, image.manifest_bytes)
    assert plain.head_manifest(repo, "missing") is None


@pytest.mark.integration
def test_plain_http_loopback_needs_no_flag(plain: RegistryClient, registry: RegistryServer) -> None:
    connection = plain.connection()
    assert (connection.registry, connection.tls_verify) == (registry.address, False)
    assert (connection.cert_dir, connection.credentials("any/repo")) == (None, None)


@pytest.mark.integration
def test_tls_with_certs_dir_and_right_password(
    secure_registry: SecureRegistry, tmp_path: Path, repo: str, images: ImageFactory
) -> None:
    secure = secure_registry
    image = images.docker()
    push(secure.address, repo, "v1", image, ca_path=secure.ca_path, auth=secure.auth)
    authfile = write_authfile(tmp_path / "auth.json", secure.address, *secure.auth)
    options = RegistryOptions(certs_dirs=(secure.certs_d,), authfile=authfile)
    with Registries(options) as registries:
        client = registries.client(secure.address)
        assert client.list_tags(repo) == ["v1"]
        assert client.head_manifest(repo, "v1") == Descriptor(
            image.media_type, image.digest, image.size
        )
        connection = client.connection()
    assert connection.tls_verify is True
    assert connection.cert_dir == secure.cert_dir
    assert connection.credentials(repo) == Credentials(*secure.auth)


@pytest.mark.integration
def test_untrusted_certificate_is_a_certificate_error(secure_registry: SecureRegistry) -> None:
    address = secure_registry.address
    client = RegistryClient(address, RegistryOptions(), sleep=lambda _: None)
    with pytest.raises(CertificateError) as caught:
        client.list_tags("any/repo")
    message = str(caught.value)
    assert message.startswith(
        f"registry {address}: TLS certificate of https://{address}/v2/ is not trusted ("
    )
    assert message.endswith(
        f"put the CA certificate that signed it in /etc/containers/certs.d/{address}/ca.crt, "
        f"or in DIR/{address}/ca.crt and pass --certs-dir DIR"
    )


@pytest.mark.integration
def test_wrong_password_is_one_clear_line_without_the_secret(
    secure_registry: SecureRegistry, tmp_path: Path
) -> None:
    secure = secure_registry
    wrong = "definitely-not-" + secure.password
    authfile = write_authfile(tmp_path / "auth.json", secure.address, secure.username, wrong)
    options = RegistryOptions(certs_dirs=(secure.certs_d,), authfile=authfile)
    with pytest.raises(AuthenticationError) as caught:
        RegistryClient(secure.address, options).list_tags("any/repo")
    assert str(caught.value) == (
        f"registry {secure.address}: credentials for user {secure.username} from {authfile} "
        "were refused"
    )
    assert wrong not in repr(caught.value)


@pytest.mark.integration
def test_no_credentials_says_where_it_looked(
    secure_registry: SecureRegistry, tmp_path: Path
) -> None:
    secure = secure_registry
    authfile = tmp_path / "empty.json"
    authfile.write_text('{"auths": {}}')
    options = RegistryOptions(certs_dirs=(secure.certs_d,), authfile=authfile)
    with pytest.raises(AuthenticationError) as caught:
        RegistryClient(secure.address, options).head_manifest("any/repo", "v1")
    assert (
        str(caught.value)
        == f"registry {secure.address}: needs credentials; none found in {authfile}"
    )


@pytest.mark.integration
def test_nothing_listening_is_connection_refused() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    client = RegistryClient(address, RegistryOptions(), sleep=lambda _: None)
    with pytest.raises(RegistryError) as caught:
        client.list_tags("app")
    assert str(caught.value) == (
        f"registry {address}: cannot connect to https://{address}/v2/: connection refused"
    )
