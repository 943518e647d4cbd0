"""The OpenAI Images API generator, and the translation of openai's errors into ours.

``OPENAI_TIMEOUT`` is the whole wait of one generation (``service/generation/deadline.py``):
the client's own retries are off, a read timeout is never retried (the first call may
still be billed), and only a refused connection is tried again within the same
deadline. A 429 is not retried either: the caller gets ``GeneratorRateLimitError``
with the server's ``Retry-After`` at once, instead of a web worker sleeping on it.
Neither the API key nor a prompt's full text is ever logged or put in a message.
"""

from __future__ import annotations

import base64
import binascii
import email.utils
import logging
import math
import re
import time
from collections.abc import Mapping
from typing import Literal, cast

import openai
from openai.types import ImagesResponse

from core.exceptions import (
    ConfigurationError,
    GenerationError,
    GeneratorRateLimitError,
    GeneratorTimeoutError,
    GeneratorUnavailableError,
    PromptRejectedError,
)
from core.media import sniff_media_type
from core.models import TokenUsage
from core.settings import Settings
from service.generation.deadline import Deadline
from service.generation.generator import GeneratedImage, GenerationOptions, ImageGenerator

logger = logging.getLogger(__name__)

Quality = Literal["low", "medium", "high", "auto", "standard", "hd"]
REJECTION_CODES = frozenset({"content_policy_violation", "moderation_blocked"})
_PROMPT_PREVIEW = 40
_SECRET_PATTERN = re.compile(r"sk-[A-Za-z0-9_\-*]{6,}")


def build_openai_client(settings: Settings) -> openai.OpenAI:
    """Build the client from settings: no retries of its own (see :class:`Deadline`)."""
    if settings.openai_api_key is None:
        raise ConfigurationError("OPENAI_API_KEY is not set.")
    return openai.OpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url or openai.not_given,
        timeout=settings.openai_timeout,
        max_retries=0,
    )


class OpenAIImageGenerator(ImageGenerator):
    """Generates images with the OpenAI Images API (``images.generate``, ``n=1``)."""

    backend = "openai"

    def __init__(self, settings: Settings, *, client: openai.OpenAI | None = None) -> None:
        self._client = client or build_openai_client(settings)
        self._deadline = Deadline(settings.openai_timeout)
        self._secret = (
            settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
        )
        self.model = settings.openai_image_model
        self.size = settings.openai_image_size
        self.quality = settings.openai_image_quality

    def close(self) -> None:
        """Close the OpenAI client's connection pool."""
        self._client.close()

    @property
    def is_gpt_image_model(self) -> bool:
        """GPT image models always answer with ``b64_json`` and refuse ``response_format``."""
        return self.model.startswith("gpt-image")

    def generate(self, prompt: str, options: GenerationOptions | None = None) -> GeneratedImage:
        """Return one image and its metadata; raise only the generator errors of the port."""
        options = options or GenerationOptions(size=self.size, quality=self.quality)
        try:
            response = self._deadline.run(lambda seconds: self._request(prompt, options, seconds))
        except GeneratorTimeoutError as late:  # the deadline passed, the call still waiting
            cause = TimeoutError(f"no answer within OPENAI_TIMEOUT={self._deadline.seconds:g} s")
            self._log_failure(prompt, late, cause)
            raise
        except openai.OpenAIError as exc:
            error = translate_error(exc)
            self._log_failure(prompt, error, exc)
            raise error from exc
        except ValueError as exc:  # a 200 whose body is not JSON, or not the right JSON
            error = GeneratorUnavailableError("The image generator sent a malformed response.")
            self._log_failure(prompt, error, exc)
            raise error from exc
        try:
            data = decode_image(response)
        except GeneratorUnavailableError as error:
            self._log_failure(prompt, error, None)
            raise
        return GeneratedImage(
            data=data,
            model=self.model,
            revised_prompt=(response.data[0].revised_prompt or None) if response.data else None,
            usage=token_usage(response),
        )

    def _request(self, prompt: str, options: GenerationOptions, seconds: float) -> ImagesResponse:
        """One call of the Images API that waits at most ``seconds``."""
        return self._client.images.generate(
            prompt=prompt,
            model=self.model,
            size=options.size,
            quality=cast(Quality, options.quality),
            n=1,
            response_format=openai.omit if self.is_gpt_image_model else "b64_json",
            timeout=seconds,
        )

    def _log_failure(
        self, prompt: str, error: GenerationError, cause: BaseException | None
    ) -> None:
        """Log one warning line: what failed, a prompt preview, a redacted upstream detail."""
        preview = prompt[:_PROMPT_PREVIEW] + ("…" if len(prompt) > _PROMPT_PREVIEW else "")
        upstream = cause if isinstance(cause, openai.APIError) else None
        # A 401's upstream message quotes the key (masked by OpenAI); leave it out entirely.
        detail = error.message if isinstance(cause, openai.AuthenticationError) else str(cause)
        logger.warning(
            "image generation failed: %s (%s, status=%s, code=%s, model=%s) prompt=%r: %s",
            error.code,
            type(cause).__name__ if cause else "invalid image data",
            getattr(upstream, "status_code", None),
            upstream.code if upstream else None,
            self.model,
            preview,
            self._redact(detail if cause else error.message)[:200],
        )

    def _redact(self, text: str) -> str:
        """Remove the API key and anything shaped like one from ``text``."""
        if self._secret:
            text = text.replace(self._secret, "***")
        return _SECRET_PATTERN.sub("***", text)


def decode_image(response: object) -> bytes:
    """Return the image bytes of a response, or raise ``GeneratorUnavailableError``."""
    malformed = GeneratorUnavailableError("The image generator sent a malformed response.")
    if not isinstance(response, ImagesResponse) or not isinstance(response.data, list):
        raise malformed
    if not response.data or not isinstance(getattr(response.data[0], "b64_json", None), str):
        raise malformed
    try:
        data = base64.b64decode(cast(str, response.data[0].b64_json), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise malformed from exc
    if sniff_media_type(data) is None:
        raise GeneratorUnavailableError(
            "The image generator sent a malformed response (not an image)."
        )
    return data


def token_usage(response: ImagesResponse) -> TokenUsage | None:
    """The response's token counts, or ``None`` when the API sent none (DALL·E)."""
    usage = response.usage
    if usage is None:
        return None
    return TokenUsage(
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )


def translate_error(exc: openai.OpenAIError) -> GenerationError:  # noqa: PLR0911 - a flat table
    """Map an openai exception to one of ours; messages never carry upstream text."""
    if isinstance(exc, openai.APITimeoutError):  # before APIConnectionError: a subclass
        return GeneratorTimeoutError()
    if isinstance(exc, openai.APIConnectionError):
        return GeneratorUnavailableError("The image generator could not be reached.")
    if isinstance(exc, openai.BadRequestError) and exc.code in REJECTION_CODES:
        return PromptRejectedError()
    if isinstance(exc, openai.RateLimitError):
        return GeneratorRateLimitError(retry_after=parse_retry_after(exc.response.headers))
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return GeneratorUnavailableError("The image generator rejected the configured credentials.")
    if isinstance(exc, openai.APIStatusError):
        if exc.status_code >= 500:
            return GeneratorUnavailableError(
                f"The image generator failed (HTTP {exc.status_code})."
            )
        return GeneratorUnavailableError(
            f"The image generator refused the request (HTTP {exc.status_code})."
        )
    return GeneratorUnavailableError()


def parse_retry_after(headers: Mapping[str, str]) -> int | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    seconds: float | None = None
    if "retry-after-ms" in lowered:
        seconds = _to_float(lowered["retry-after-ms"])
        seconds = None if seconds is None else seconds / 1000
    if seconds is None and "retry-after" in lowered:
        raw = lowered["retry-after"].strip()
        seconds = _to_float(raw)
        if seconds is None:
            try:
                seconds = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
            except (TypeError, ValueError, IndexError, OverflowError):
                return None
    if seconds is None or not math.isfinite(seconds):
        return None
    return max(1, math.ceil(seconds))


def _to_float(value: str) -> float | None:
    """``float(value)``, or ``None`` when it is not a number."""
    try:
        return float(value)
    except ValueError:
        return None
