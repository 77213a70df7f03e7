# Embed a file in a C header as `static const unsigned char NAME[]` (no terminating NUL:
# sizeof is the file's length). cmake -DIN=file -DOUT=header -DNAME=symbol -P embed.cmake
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" n)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," arr "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" arr "${arr}")
get_filename_component(src "${IN}" NAME)
file(WRITE "${OUT}" "/* generated from ${src} by cmake/embed.cmake: do not edit */\n"
                    "static const unsigned char ${NAME}[] = {\n${arr}\n};\n")
