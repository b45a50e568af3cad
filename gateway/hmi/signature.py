"""The password re-entry of an e-signature: checked against the signer's account before the
signed action runs, rate limited like a log-in (`gateway.api.login_limit`), and counted by the
store, which locks the account after `SecurityPolicy.max_failures` wrong passwords in a row."""

from __future__ import annotations

import asyncio

from fastapi import Request

from ebr.users import AccountLockedError, AuthenticationError, Session, UserError
from gateway.api.login_limit import LoginRateLimitedError, client_address
from gateway.hmi.access import sessions_of
from gateway.hmi.actions import Failure


class SignatureRefusedError(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.what)
        self.failure = failure


async def check_signature(request: Request, signer: Session, password: str) -> None:
    sessions = sessions_of(request)
    source = client_address(request)
    if not password:
        raise SignatureRefusedError(
            Failure("the signature needs your password", "enter your password to sign", 400)
        )
    try:
        sessions.limiter.check(source, signer.username)
        await asyncio.to_thread(sessions.users.check_password, signer.user_id, password)
    except LoginRateLimitedError as error:
        raise SignatureRefusedError(Failure(error.detail, error.fix or "", 429)) from None
    except AccountLockedError as error:
        sessions.limiter.failed(source, signer.username)
        raise SignatureRefusedError(Failure(error.message, error.hint or "", 423)) from None
    except AuthenticationError as error:
        sessions.limiter.failed(source, signer.username)
        raise SignatureRefusedError(
            Failure(
                f"signature refused: {error.message}",
                "enter your own password; the account locks after repeated failures",
                403,
            )
        ) from None
    except UserError as error:
        raise SignatureRefusedError(Failure(error.message, error.hint or "", 403)) from None
    sessions.limiter.succeeded(signer.username)
