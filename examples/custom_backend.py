"""A model backend defined outside valuesim, registered by name, then used by an individual
study (`eval`) and a population study through the public Python API.

    python examples/custom_backend.py

A backend is a ModelAPI: one `generate(messages, config) -> ModelOutput` and a declared
ModelInfo. valuesim's Model adds the cache, accounting and concurrency; its reader turns the
replies into answers and distributions (here one-hot: this backend gives no log-probabilities).
"""

import re
import tempfile
from pathlib import Path

import valuesim
from valuesim.evaluation import read_predictions
from valuesim.llm import GenerateConfig, ModelAPI, ModelInfo, ModelOutput, Usage, get_model, register_backend
from valuesim.survey.synthetic import write_synthetic


class MiddleOption(ModelAPI):
    """Picks the middle option of the question a prompt ends with (stands in for a real client)."""

    spec = "middle"

    def info(self) -> ModelInfo:
        return ModelInfo(self.spec, context_window=32_000, concurrency=4)

    def generate(self, messages: list[dict], config: GenerateConfig) -> ModelOutput:
        question = re.split(r"\n(?=Q\d+: )", messages[-1]["content"])[-1]
        codes = re.findall(r"^(-?\d+)\. ", question, flags=re.MULTILINE) or ["1"]
        return ModelOutput(f"Answer: {codes[len(codes) // 2]}", Usage(len(question) // 4, 0, 3))


@register_backend("middle", concurrency=4)
def make_middle(arg: str, **settings) -> ModelAPI:
    return MiddleOption()


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = write_synthetic(Path(tmp) / "synth.csv", respondents=300, countries=["DEU", "NGA"], seed=1)
        model = get_model("middle", cache=False)  # by its registered name
        study = valuesim.run_study(data, methods=["no-profile", "full-info"], users=4, folds=2, items="Q1-Q30",
                                   model=model, out=Path(tmp) / "eval", progress=False)
        preds = read_predictions(study.run_dir)
        print("eval accuracy:", (preds.answer == preds.truth).groupby(preds.method).mean().round(3).to_dict())
        population = valuesim.run_population(data, countries="DEU,NGA", personas=3, questions="Q1,Q2", model=model,
                                             methods="value-persona", out=Path(tmp) / "population", progress=False)
        print(population.text_summary())
        print(model.accounting.summary())


if __name__ == "__main__":
    main()
