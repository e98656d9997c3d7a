"""Which service problems go to an external TMF656 manager (policy `delegation.service_domains`): the
matching rule (category, or a service specification of the affected services; first domain wins) and the
policy file's validation of the section."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spm_peers import policy_dir
from troubleflow.domain.external_problem import domain_for, status_path
from troubleflow.domain.policy import ServiceDomain
from troubleflow.domain.service_problem import S
from troubleflow.errors import InvalidInput
from troubleflow.policy_files import load_policies

IPTV = ServiceDomain(
    "iptv-platform", "https://spm.example/tmf-api/serviceProblemManagement/v4", ("service-fault",)
)
VOICE = ServiceDomain("voice-core", "https://voice.example/spm/v4", (), ("voip", "iptv"))


def test_a_problem_goes_to_the_first_domain_naming_its_category_or_a_service_specification() -> None:
    assert domain_for((IPTV, VOICE), "service-fault", ["iptv"]) == IPTV
    assert domain_for((VOICE, IPTV), "service-fault", ["iptv"]) == VOICE
    assert domain_for((IPTV, VOICE), "broadband", ["voip"]) == VOICE
    assert domain_for((IPTV, VOICE), "broadband", ["dsl"]) is None
    assert domain_for((), "service-fault", ["iptv"]) is None


def test_the_mirror_follows_a_remote_status_through_in_progress_when_events_were_missed() -> None:
    assert status_path(S.ACKNOWLEDGED, S.RESOLVED) == (S.IN_PROGRESS, S.RESOLVED)
    assert status_path(S.IN_PROGRESS, S.RESOLVED) == (S.RESOLVED,)
    assert status_path(S.RESOLVED, S.RESOLVED) == ()
    assert status_path(S.CANCELLED, S.RESOLVED) == (S.RESOLVED,)  # refused by the lifecycle


def test_service_domains_are_loaded_with_their_endpoint_without_a_trailing_slash(tmp_path: Path) -> None:
    domains = "    - id: tv\n      endpoint: https://spm.example/v4/\n      service_specifications: [iptv]\n"
    (policy,) = load_policies(policy_dir(tmp_path, domains))
    assert policy.delegation.service_domains == (
        ServiceDomain("tv", "https://spm.example/v4", (), ("iptv",)),
    )


@pytest.mark.parametrize(
    ("domains", "complaint"),
    [
        (
            "    - id: tv\n      endpoint: ftp://spm.example\n      categories: [service-fault]\n",
            "http(s) URL",
        ),
        ("    - id: tv\n      endpoint: https://spm.example\n", "names categories, service_specifications"),
        (
            "    - id: tv\n      endpoint: https://spm.example\n      categories: [nonsense]\n",
            "unknown category",
        ),
        (
            "    - id: tv\n      endpoint: https://a.example\n      categories: [service-fault]\n"
            "    - id: tv\n      endpoint: https://b.example\n      categories: [service-fault]\n",
            "duplicate id",
        ),
    ],
)
def test_a_broken_service_domain_is_refused_with_its_path(
    tmp_path: Path, domains: str, complaint: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        load_policies(policy_dir(tmp_path, domains))
    assert "service_domains" in caught.value.message and complaint in caught.value.message
