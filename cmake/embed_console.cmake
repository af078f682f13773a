# src/console/ (the agent console's HTML, CSS and JavaScript modules) into the binary, served
# at /console/ (src/http/handlers/console.c), with the Twilio Voice JS SDK
# (src/console/node_modules/@twilio/voice-sdk/dist/twilio.min.js, pinned in
# src/console/package-lock.json and installed by `npm ci`, which scripts/dev and scripts/test
# run) as /console/twilio.min.js when it is there. tools/console/embed.py (stdlib Python) runs
# on every build and rewrites the generated C only when a file changed, so adding the SDK after
# configuring, or editing a module, is picked up without re-running CMake.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
function(cb_embed_console target)
  set(out_c ${CMAKE_BINARY_DIR}/generated/console_files.c)
  set(dir ${CMAKE_SOURCE_DIR}/src/console)
  set(sdk ${dir}/node_modules/@twilio/voice-sdk/dist/twilio.min.js)
  # Configure time: the target's source must exist before the first build.
  execute_process(COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/console/embed.py
                          ${out_c} ${dir} ${sdk}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "tools/console/embed.py failed")
  endif()
  if(NOT EXISTS ${sdk})
    message(STATUS "console: no Twilio Voice SDK (run `npm ci` in src/console); the console "
                   "will say \"audio unavailable\"")
  endif()
  add_custom_target(cb_console_embed
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/console/embed.py ${out_c} ${dir} ${sdk}
    BYPRODUCTS ${out_c}
    COMMENT "Embedding src/console"
    VERBATIM)
  target_sources(${target} PRIVATE ${out_c})
  add_dependencies(${target} cb_console_embed)
endfunction()
