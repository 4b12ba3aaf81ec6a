"""tracuu evaluation: query sets, the DESIGN.md relevance rule and public benchmarks (import as `from eval import ...`)."""
