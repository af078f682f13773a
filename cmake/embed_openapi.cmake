# docs/openapi.yaml into the binary as JSON (GET /openapi.json): a build step, so editing the
# YAML regenerates it. PyYAML converts it (tools/openapi/embed.py; Debian python3-yaml); the
# JSON is also left as ${CMAKE_BINARY_DIR}/generated/openapi.json for the integration tests.
find_package(Python3 REQUIRED COMPONENTS Interpreter)
function(cb_embed_openapi target)
  set(out_c ${CMAKE_BINARY_DIR}/generated/openapi_json.c)
  set(out_json ${CMAKE_BINARY_DIR}/generated/openapi.json)
  add_custom_command(
    OUTPUT ${out_c} ${out_json}
    COMMAND ${Python3_EXECUTABLE} ${CMAKE_SOURCE_DIR}/tools/openapi/embed.py
            ${CMAKE_SOURCE_DIR}/docs/openapi.yaml ${out_c} ${out_json}
    DEPENDS ${CMAKE_SOURCE_DIR}/docs/openapi.yaml ${CMAKE_SOURCE_DIR}/tools/openapi/embed.py
            ${CMAKE_SOURCE_DIR}/tools/embed_util.py
    COMMENT "Embedding docs/openapi.yaml as JSON"
    VERBATIM)
  target_sources(${target} PRIVATE ${out_c})
endfunction()
