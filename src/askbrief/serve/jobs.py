"""Writes off the serving path: a large POST /documents is queued in the store and answered 202
at once; a worker (a thread of every `askbrief serve`, or `askbrief worker`) embeds and writes it.

The queue lives in the index's own database, so with PostgreSQL any process's worker takes any
server's job. A running job beats its heart every HEARTBEAT_S; one whose worker stopped beating
(killed, its machine gone) for ASKBRIEF_JOB_STALE_S is taken again. Each batch of a job is written in one
transaction, so a killed worker leaves every document whole or absent, and the retry skips what
landed: a document written by the earlier attempt comes back as stored under its own id.
"""

import json
import logging
import os
import socket
import threading

from askbrief.engine import Engine
from askbrief.errors import AskbriefError, JobNotFound
from askbrief.limits import check_distinct_ids
from askbrief.records import Document, Job

HEARTBEAT_S = 5.0
IDLE_S = 1.0  # how often an idle worker looks for a job
JOB_BATCH = 8  # documents a transaction in a job: progress to report, and less to redo after a kill
log = logging.getLogger("askbrief.serve.jobs")


def queue(engine: Engine, documents: list[Document]) -> Job:
    """Queue documents for a worker; checked as an ingest would check them before queueing."""
    check_distinct_ids(documents)
    payload = json.dumps([d.model_dump(mode="json", include={"id", "title", "published", "source", "text", "hash"})
                          for d in documents])
    return engine.store(create=True).jobs.add(payload, len(documents))


def job(engine: Engine, job_id: int) -> Job:
    found = engine.store().jobs.get(job_id) if engine.exists() else None
    if found is None:
        raise JobNotFound(f"no job {job_id} in {engine.name!r}; POST /documents answers 202 with a job's id")
    return found


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def work_once(engine: Engine, worker: str) -> Job | None:
    """Take one queued job and do it; the finished job, or None when none was waiting."""
    if not engine.exists():
        return None
    store = engine.store()
    taken = store.jobs.take(worker, engine.settings.job_stale_s)
    if taken is None:
        return None
    job, payload = taken
    done = [0]
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(min(HEARTBEAT_S, engine.settings.job_stale_s / 3)):
            store.jobs.progress(job.id, worker, done[0])

    heart = threading.Thread(target=beat, daemon=True, name=f"askbrief-job-{job.id}")
    heart.start()
    try:
        documents = [Document(**d) for d in json.loads(payload)]
        results = engine.ingest(documents, on_batch=lambda n: done.__setitem__(0, n), batch_size=JOB_BATCH)
    except AskbriefError as e:
        store.jobs.finish(job.id, worker, done[0], None, str(e))
    except Exception as e:  # noqa: BLE001 - the job says why; the worker lives on
        log.exception("job %s failed", job.id)
        store.jobs.finish(job.id, worker, done[0], None, f"{type(e).__name__}: {e}")
    else:
        store.jobs.finish(job.id, worker, len(results), json.dumps([r.model_dump(mode="json") for r in results]), None)
    finally:
        stop.set()
        heart.join()
    return store.jobs.get(job.id)


def run_worker(engine: Engine, stop: threading.Event, worker: str | None = None) -> None:
    """Do queued jobs until `stop`; one JSON log line a job."""
    worker = worker or worker_name()
    while not stop.is_set():
        try:
            finished = work_once(engine, worker)
        except Exception as e:  # noqa: BLE001 - a database that went away a moment: try again
            log.warning(json.dumps({"worker": "failed", "error": f"{type(e).__name__}: {e}"}))
            finished = None
        if finished is None:
            stop.wait(IDLE_S)
        else:
            log.info(json.dumps({"job": finished.id, "state": finished.state, "documents": finished.total,
                                 "error": finished.error}))
