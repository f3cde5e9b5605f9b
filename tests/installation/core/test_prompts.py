import pytest

from installation.core.errors import UserError
from installation.core.prompts import WeightedPrompt, format_prompts, parse_prompts


def test_weights_and_negatives() -> None:
    assert parse_prompts("a face:1 | scribble:-0.5") == (
        WeightedPrompt("a face", 1.0),
        WeightedPrompt("scribble", -0.5),
    )


def test_default_weight_and_whitespace() -> None:
    assert parse_prompts("  a cat  ") == (WeightedPrompt("a cat", 1.0),)
    assert parse_prompts("a cat|a dog: 2") == (WeightedPrompt("a cat", 1.0), WeightedPrompt("a dog", 2.0))


def test_colon_inside_text_uses_the_last_one() -> None:
    assert parse_prompts("ratio 1:2 drawing:0.5") == (WeightedPrompt("ratio 1:2 drawing", 0.5),)


def test_round_trip() -> None:
    p = parse_prompts("a face:1.5 | scribble:-0.25 | hat")
    assert parse_prompts(format_prompts(p)) == p


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a cat | | a dog", "empty part"),
        ("a cat:heavy", "'heavy'"),
        ("a cat:", "''"),
        (":0.5", "no text"),
        ("a cat:0", "weight of 0"),
        ("a cat:nan", "finite"),
        ("scribble:-1", "only negative"),
        ("x" * 300, "characters long"),
    ],
)
def test_malformed_input_names_the_problem(spec: str, names: str) -> None:
    with pytest.raises(UserError, match=None) as e:
        parse_prompts(spec)
    msg = str(e.value)
    assert names in msg
    assert "\n" not in msg
