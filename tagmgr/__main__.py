from tagmgr.cli import run

run()
