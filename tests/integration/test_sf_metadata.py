"""The Salesforce metadata in docs/salesforce (what an admin deploys, SPEC §3 and §9) is
well-formed and complete: every *.xml parses; each field file's fullName matches its file
name; every field callbridge writes exists with the right type; External ID fields say
<externalId>true</externalId>; top-level elements follow the Metadata API's order (the WSDL
sequence: fullName, then alphabetical), whose violation fails a deploy with "Element ...
invalid at this location"; the permission set grants every field. Standard library only;
needs neither the daemon nor a Salesforce org. The negative tests prove the checks can fail."""

import os
import pathlib
import unittest
import xml.etree.ElementTree as ET

NS = "http://soap.sforce.com/2006/04/metadata"
SOURCE = pathlib.Path(os.environ.get("CB_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
ROOT = SOURCE / "docs" / "salesforce"

# object -> field -> (type, External ID, unique, extra elements that must have these values)
EXPECTED = {
    "Activity": {
        "Callbridge_Call_Id__c": ("Text", True, True, {"length": "64", "caseSensitive": "true"}),
        "Callbridge_Followup_Key__c": ("Text", True, True, {"length": "128"}),
        "Callbridge_Recording_URL__c": ("Url", False, False, {}),
        "Callbridge_Recording_Seconds__c": ("Number", False, False, {"precision": "8", "scale": "0"}),
        "Callbridge_Recording_Bytes__c": ("Number", False, False, {"precision": "18", "scale": "0"}),
        "Callbridge_Sentiment__c": ("Number", False, False, {"scale": "3"}),
        "Callbridge_Sentiment_Label__c": ("Picklist", False, False, {}),
        "Callbridge_Intent__c": ("Text", False, False, {"length": "80"}),
        "Callbridge_Tags__c": ("Text", False, False, {"length": "255"}),
        "Callbridge_Keywords__c": ("Text", False, False, {"length": "255"}),
        "Callbridge_Summary__c": ("TextArea", False, False, {}),
        "Callbridge_Transcript__c": ("Lookup", False, False,
                                     {"referenceTo": "Callbridge_Transcript__c"}),
    },
    "Lead": {
        "Callbridge_Phone__c": ("Text", True, True, {"length": "32"}),
    },
    "Callbridge_Transcript__c": {
        "Callbridge_Key__c": ("Text", True, True, {"length": "80"}),
        "Call_Id__c": ("Text", False, False, {"length": "64"}),
        "Task__c": ("Text", False, False, {"length": "18"}),
        "Part__c": ("Number", False, False, {"precision": "4", "scale": "0"}),
        "Text__c": ("LongTextArea", False, False, {"length": "131072"}),
        "Entities__c": ("LongTextArea", False, False, {"length": "32768"}),
        "Contact__c": ("Lookup", False, False, {"referenceTo": "Contact"}),
        "Lead__c": ("Lookup", False, False, {"referenceTo": "Lead"}),
    },
}


def local(tag):
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def text_of(root, name):
    el = root.find(f"{{{NS}}}{name}")
    return None if el is None else (el.text or "").strip()


def order_problems(path, root):
    """Top-level children must be fullName first, then in alphabetical order."""
    tags = [local(c.tag) for c in root]
    rest = [t for t in tags if t != "fullName"]
    problems = []
    if "fullName" in tags and tags[0] != "fullName":
        problems.append(f"{path}: fullName is not the first element")
    for a, b in zip(rest, rest[1:]):
        if a > b:
            problems.append(f"{path}: <{b}> after <{a}> (Metadata API order is alphabetical)")
    return problems


def field_problems(path, root):
    problems = []
    if local(root.tag) != "CustomField" or not root.tag.startswith(f"{{{NS}}}"):
        return [f"{path}: root is {root.tag}, not CustomField in the metadata namespace"]
    want = path.name[: -len(".field-meta.xml")]
    if text_of(root, "fullName") != want:
        problems.append(f"{path}: fullName {text_of(root, 'fullName')!r} != file name {want!r}")
    obj = path.parent.parent.name
    spec = EXPECTED.get(obj, {}).get(want)
    if spec is not None:
        ftype, ext, unique, extra = spec
        if text_of(root, "type") != ftype:
            problems.append(f"{path}: type {text_of(root, 'type')!r}, want {ftype!r}")
        if ext and text_of(root, "externalId") != "true":
            problems.append(f"{path}: External ID field without <externalId>true</externalId>")
        if unique and text_of(root, "unique") != "true":
            problems.append(f"{path}: must be <unique>true</unique>")
        for name, value in extra.items():
            if text_of(root, name) != value:
                problems.append(f"{path}: <{name}> is {text_of(root, name)!r}, want {value!r}")
    if not text_of(root, "label"):
        problems.append(f"{path}: no label")
    return problems


def check_tree(base):
    """Every problem found under `base` (a docs/salesforce directory), as sentences."""
    default = base / "force-app" / "main" / "default"
    problems = []
    parsed = {}
    xml_files = sorted(base.rglob("*.xml"))
    if not xml_files:
        return [f"{base}: no metadata files"]
    for path in xml_files:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            problems.append(f"{path}: not well-formed XML: {e}")
            continue
        parsed[path] = root
        problems += order_problems(path, root)
        if path.name.endswith(".field-meta.xml"):
            problems += field_problems(path, root)
    for obj, fields in EXPECTED.items():
        for name in fields:
            path = default / "objects" / obj / "fields" / f"{name}.field-meta.xml"
            if path not in parsed:
                problems.append(f"missing field {obj}.{name} ({path})")
    obj_file = default / "objects" / "Callbridge_Transcript__c" / "Callbridge_Transcript__c.object-meta.xml"
    root = parsed.get(obj_file)
    if root is None:
        problems.append(f"missing object {obj_file}")
    else:
        if text_of(root, "label") != "Call Transcript":
            problems.append(f"{obj_file}: label is not 'Call Transcript'")
        name_field = root.find(f"{{{NS}}}nameField")
        if name_field is None or text_of(name_field, "type") != "AutoNumber":
            problems.append(f"{obj_file}: Name is not an auto-number")
    ps_file = default / "permissionsets" / "Callbridge_Integration.permissionset-meta.xml"
    root = parsed.get(ps_file)
    if root is None:
        problems.append(f"missing permission set {ps_file}")
    else:
        granted = {
            text_of(fp, "field")
            for fp in root.findall(f"{{{NS}}}fieldPermissions")
            if text_of(fp, "readable") == "true" and text_of(fp, "editable") == "true"
        }
        for obj, fields in EXPECTED.items():
            for name in fields:
                if f"{obj}.{name}" not in granted:
                    problems.append(f"{ps_file}: no read/edit on {obj}.{name}")
        perms = {text_of(p, "name") for p in root.findall(f"{{{NS}}}userPermissions")
                 if text_of(p, "enabled") == "true"}
        if "ApiEnabled" not in perms:
            problems.append(f"{ps_file}: ApiEnabled is not granted")
        crud = [op for op in root.findall(f"{{{NS}}}objectPermissions")
                if text_of(op, "object") == "Callbridge_Transcript__c"]
        if not crud or any(text_of(crud[0], k) != "true" for k in
                           ("allowCreate", "allowRead", "allowEdit", "allowDelete")):
            problems.append(f"{ps_file}: no full CRUD on Callbridge_Transcript__c")
    return problems


class MetadataTest(unittest.TestCase):
    def test_tree_is_clean(self):
        problems = check_tree(ROOT)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_project_file(self):
        import json
        project = json.loads((ROOT / "sfdx-project.json").read_text())
        dirs = [d["path"] for d in project["packageDirectories"]]
        self.assertIn("force-app", dirs)
        self.assertTrue((ROOT / "force-app").is_dir())


class CheckerCanFailTest(unittest.TestCase):
    """Feed the checker broken copies of real files: each must be reported."""

    def setUp(self):
        import shutil
        import tempfile
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="cb-sfmeta-"))
        self.addCleanup(shutil.rmtree, self.tmp)
        self.base = self.tmp / "salesforce"
        shutil.copytree(ROOT, self.base)
        self.default = self.base / "force-app" / "main" / "default"
        self.assertEqual(check_tree(self.base), [])

    def rewrite(self, rel, mutate):
        path = self.default / rel
        tree = ET.parse(path)
        ET.register_namespace("", NS)
        mutate(tree.getroot())
        tree.write(path, xml_declaration=True, encoding="UTF-8")

    def set_text(self, rel, name, value):
        def mutate(root):
            root.find(f"{{{NS}}}{name}").text = value
        self.rewrite(rel, mutate)

    def assertReported(self, needle):
        problems = check_tree(self.base)
        self.assertTrue(any(needle in p for p in problems), f"{needle!r} not in {problems}")

    def test_external_id_flag_dropped(self):
        self.set_text("objects/Activity/fields/Callbridge_Call_Id__c.field-meta.xml", "externalId", "false")
        self.assertReported("External ID field without")

    def test_full_name_mismatch(self):
        self.set_text("objects/Lead/fields/Callbridge_Phone__c.field-meta.xml", "fullName", "Phone2__c")
        self.assertReported("!= file name")

    def test_missing_field(self):
        (self.default / "objects/Callbridge_Transcript__c/fields/Text__c.field-meta.xml").unlink()
        self.assertReported("missing field Callbridge_Transcript__c.Text__c")

    def test_malformed_xml(self):
        path = self.default / "objects/Activity/fields/Callbridge_Tags__c.field-meta.xml"
        path.write_text(path.read_text().replace("</CustomField>", ""))
        self.assertReported("not well-formed")

    def test_wrong_order(self):
        def mutate(root):
            label = root.find(f"{{{NS}}}label")
            root.remove(label)
            root.append(label)
        self.rewrite("objects/Activity/fields/Callbridge_Intent__c.field-meta.xml", mutate)
        self.assertReported("Metadata API order")

    def test_permission_missing(self):
        def mutate(root):
            for fp in root.findall(f"{{{NS}}}fieldPermissions"):
                if fp.find(f"{{{NS}}}field").text == "Activity.Callbridge_Tags__c":
                    root.remove(fp)
        self.rewrite("permissionsets/Callbridge_Integration.permissionset-meta.xml", mutate)
        self.assertReported("no read/edit on Activity.Callbridge_Tags__c")

    def test_wrong_length(self):
        self.set_text("objects/Activity/fields/Callbridge_Call_Id__c.field-meta.xml", "length", "255")
        self.assertReported("<length> is '255'")


class CallCenterTest(unittest.TestCase):
    """docs/salesforce/callcenter.xml, the Open CTI call center an admin imports (issue 14):
    every required item, the console as the adapter over https, the CTI API on, Lightning."""

    def test_call_center_definition(self):
        root = ET.parse(ROOT / "callcenter.xml").getroot()
        self.assertEqual(root.tag, "callCenter")
        general = root.find("section[@name='reqGeneralInfo']")
        self.assertIsNotNone(general)
        self.assertEqual(general.get("sortOrder"), "0")
        items = {i.get("name"): (i.get("sortOrder"), (i.text or "").strip())
                 for i in general.findall("item")}
        self.assertEqual(items["reqInternalName"][0], "0")
        self.assertRegex(items["reqInternalName"][1], r"^[A-Za-z][A-Za-z0-9]{0,39}$")
        self.assertEqual(items["reqDisplayName"][0], "1")
        self.assertTrue(items["reqDisplayName"][1])
        self.assertRegex(items["reqAdapterUrl"][1], r"^https://[^/?#]+/console/$")
        self.assertEqual(items["reqUseApi"][1], "true")
        self.assertGreaterEqual(int(items["reqSoftphoneHeight"][1]), 400)
        self.assertGreaterEqual(int(items["reqSoftphoneWidth"][1]), 320)
        self.assertEqual(items["reqSalesforceCompatibilityMode"][1], "Lightning")
        orders = [int(o) for o, _ in items.values()]
        self.assertEqual(sorted(orders), list(range(len(orders))))


if __name__ == "__main__":
    unittest.main(verbosity=2)
