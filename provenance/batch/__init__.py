"""Registering a collection: a catalogue sheet (CSV or XLSX) and a folder of transcriptions.

``sheet`` reads the sheet into rows of text cells, ``columns`` maps its header to catalogue fields (our
names or their Dublin Core equivalents), ``plan`` validates every row before anything is written and then
registers each record in its own atomic commit.
"""
