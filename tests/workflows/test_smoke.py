from tests import factories as f


def test_happy_path_reaches_audited(draft, people):
    done = f.advance(draft, "audited", **people)
    assert done.state == "audited"
