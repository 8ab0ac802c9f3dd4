import pytest

from claims.domain.stages import Stage
from tests.support.factories import claim_in_stage


@pytest.mark.django_db
@pytest.mark.parametrize("stage", Stage.values)
def test_every_stage_is_reachable_through_the_services(stage):
    claim = claim_in_stage(stage)
    assert claim.stage == stage
    assert claim.events.last().to_stage in {stage, ""} or stage == Stage.DRAFT
