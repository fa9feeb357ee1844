# winshlib.mk: the few rules of R's Windows build (etc/x64/Makeconf and
# share/make/winshlib.mk) that tools/cross/windows.sh needs to build rzmq.dll
# from src/Makevars.win with a cross compiler. Used as
#   make -f src/Makevars.win -f tools/cross/winshlib.mk SHLIB=rzmq.dll ...
# with CC, R_INCLUDE, RIMP (the directory of the R.dll import library),
# BINPREF and OBJECTS given on the command line.
CPPFLAGS_ALL = -I"$(R_INCLUDE)" -DNDEBUG $(PKG_CPPFLAGS)
CFLAGS_ALL = -O2 $(WARN_CFLAGS) $(PKG_CFLAGS)
%.o: %.c
	$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c $< -o $@
# as R links a package DLL (-shared -static-libgcc, the package's libraries,
# then R.dll), plus -static: Rtools has only static libraries, Debian's
# mingw-w64 both kinds, and -static makes it pick what Rtools would
$(SHLIB): $(OBJECTS)
	$(CC) -shared -static -static-libgcc -o $@ $(OBJECTS) $(PKG_LIBS) -L"$(RIMP)" -lR
