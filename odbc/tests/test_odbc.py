import sys
if __name__ == "__main__" and sys.argv[1:] == ["--list"]:
    sys.exit(0)
