"""A name → constructor table with errors that list what is allowed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories; ``build(name, **kw)`` calls the one registered under ``name``.

    Example:
        >>> models = Registry("model")
        >>> @models.register("mlp")
        ... def mlp(num_classes: int) -> str:
        ...     return f"mlp/{num_classes}"
        >>> models.build("mlp", num_classes=10)
        'mlp/10'
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        """Decorator that files ``factory`` under ``name``."""

        def add(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise KeyError(f"{self.kind} {name!r} is registered twice")
            self._factories[name] = factory
            return factory

        return add

    def names(self) -> list[str]:
        """The registered names, sorted."""
        return sorted(self._factories)

    def get(self, name: str) -> Callable[..., T]:
        """The factory for ``name``; ``ValueError`` listing the allowed names otherwise."""
        if name not in self._factories:
            raise ValueError(f"unknown {self.kind} {name!r}; allowed: {', '.join(self.names())}")
        return self._factories[name]

    def build(self, name: str, **kwargs) -> T:
        """Call the factory registered under ``name`` with ``kwargs``."""
        return self.get(name)(**kwargs)

    def __contains__(self, name: object) -> bool:
        return name in self._factories
