"""The embedded store: a networkx MultiDiGraph in memory, persisted on local disk.

``EmbeddedStore`` is the ``GraphStore`` for one machine, nothing to install;
analysts get its live networkx graph. Its files, under the data directory's
``store/``: ``graph.snapshot`` (the state up to a sequence number),
``graph.journal`` (every commit since, fsynced before it is acknowledged),
``records.sqlite`` (source records, whose rows carry the journal entry that
wrote them) and ``writer.lock`` (one writer at a time; others open the store
read-only and follow the writer). The files are MessagePack — data, never
code — created 0600 in a 0700 directory.

One module per concern, each saying why it exists:

- ``store``: the protocol — lock, lifecycle, reads; writes become entries;
- ``durable``: memory kept equal to disk — open, commit, follow, compact;
- ``state``: the in-memory graph, indexes, listings, docs; applying an entry;
- ``entries``: what one commit is, as objects and on the wire;
- ``journal``: appending, fsync, CRC, torn tails, sequence numbers, following;
- ``snapshot``: the whole state in one file, checked on read, replaced by rename;
- ``records``: the SQLite records database tied to journal entries;
- ``nxgraph``: the networkx graph with compact node and edge data;
- ``postings``: the indexes' posting lists and name bigrams;
- ``encoding``: every encoded shape, encoder beside decoder.

The files' permissions and the writer lock are ``graph.store.files``;
MessagePack itself is ``graph.codec`` (shared with the XLSX reader's pipe).
"""

from graph.store.embedded.encoding import DamagedStore
from graph.store.embedded.journal import JOURNAL, JOURNAL_MAGIC
from graph.store.embedded.records import RECORDS
from graph.store.embedded.snapshot import SNAPSHOT
from graph.store.embedded.store import EmbeddedStore

__all__ = ["JOURNAL", "JOURNAL_MAGIC", "RECORDS", "SNAPSHOT", "DamagedStore", "EmbeddedStore"]
