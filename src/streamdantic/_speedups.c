/* streamdantic._speedups: the parser's state machine in C (and, near the end of this file,
 * the path copying of partial snapshots, `own_path`, the emitter's constructor of frozen
 * `Update`s, `new_update`, and a stream's per-item text step, `TextStep`, with the loop
 * that drives it, `Outputs`).
 *
 * `ParserCore` is the compiled twin of the pure-Python scanner in `_parser.py` (`_PyParser`):
 * the same fields under the same names, the same states, the same events, the same errors.
 * `_parser.JSONParser` puts it first in its bases, so `feed`, `_consume` and `value` run
 * here, while everything off the hot path (constructor, `close`, `finish`, `state_of`, error
 * reporting, decoding bytes, rare escape cases) stays in Python and is shared by both.
 *
 * Why a compiled core: at token-sized chunks (about 4 characters) a Python state machine
 * spends about 1 us per chunk on interpreter overhead alone; here a chunk costs a few
 * dozen nanoseconds plus the objects it creates.
 *
 * Rules kept from the Python version (see its module docstring):
 * - only the new text is scanned; an unfinished token is held back in `_pending`;
 * - the open string is a list of parts joined into its slot on reading `value`;
 * - errors are raised by the shared Python `_fail`, after `_state` is stored, so messages,
 *   offsets, lines, columns and paths are identical in both implementations.
 *
 * Events are instances of the Python classes in `_events.py` (slotted, frozen). They are
 * built here by allocating the instance and storing its two slots directly at the offsets
 * their member descriptors give, as `slot_setter` does in Python, without calling __init__.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

enum {
    ST_VALUE = 0,
    ST_ARRAY_FIRST = 1,
    ST_AFTER_VALUE = 2,
    ST_OBJECT_FIRST = 3,
    ST_KEY = 4,
    ST_COLON = 5,
    ST_STRING = 6,
    ST_KEY_STRING = 7,
    ST_DONE = 8,
    ST_SKIP = 9,
    ST_ERROR = 10,
    ST_FINISHED = 11,
};

typedef struct {
    PyTypeObject *type;
    Py_ssize_t off0;
    Py_ssize_t off1;
} EventClass;

/* Set once by setup(); the module is not meant for sub-interpreters. */
static int ready = 0;
static EventClass ev_started, ev_appended, ev_completed, ev_document;
static PyObject *limit_error; /* LimitExceededError */
static PyObject *incremental_decoder; /* codecs.IncrementalDecoder */
static PyObject *s_object, *s_array, *s_string, *s_empty, *empty_tuple;
static PyObject *s_fail, *s_fail_long_int, *s_escape, *s_prepare_text, *s_refuse;

typedef struct {
    PyObject_HEAD
    int state;
    char lenient;
    char multiple;
    char root_started;
    char started;
    char events; /* build events (and the paths they carry); off: only the value */
    PyObject *containers; /* list: open arrays and objects, outermost first */
    PyObject *paths; /* list: the path (tuple) of each open container; its key or index
                        when events are off (see _ParserLogic._path_to) */
    PyObject *key;        /* str: the key whose value comes next */
    PyObject *key_parts;  /* list of str: parts of a key split across chunks */
    PyObject *pending;    /* str: an unfinished token held back */
    PyObject *root;
    PyObject *documents; /* list */
    PyObject *str_parts; /* list of str: the open string */
    PyObject *str_container;
    PyObject *str_slot;
    PyObject *str_path;
    Py_ssize_t str_len;
    Py_ssize_t str_joined;
    Py_ssize_t str_emitted;
    PyObject *decoder;
    PyObject *error;
    Py_ssize_t pos_bytes;
    Py_ssize_t pos_line;
    Py_ssize_t pos_column;
    Py_ssize_t max_depth;
    Py_ssize_t max_number_length;
    Py_ssize_t max_string;
    Py_ssize_t max_size_bytes;
    PyObject *max_size;
    PyObject *max_string_length;
} Core;

/* ------------------------------------------------------------------ helpers */

/* The parser's fields are attributes Python code can set (the shared Python logic writes
 * them). The member descriptors check their types; the values are checked before the C code
 * relies on them (check_fields, check_state) or where it uses them, and a bad one raises
 * this TypeError instead of reading out of bounds. */
static int
corrupted(const char *what)
{
    PyErr_Format(PyExc_TypeError,
                 "JSONParser internal state was corrupted: %s; its private attributes are "
                 "not to be set from outside (create a new JSONParser)",
                 what);
    return -1;
}

static int check_fields(Core *self);
static int check_state(Core *self);

static int
corrupted_int(const char *field, Py_ssize_t value, const char *rule)
{
    PyErr_Format(PyExc_TypeError,
                 "JSONParser internal state was corrupted: %s is %zd, %s; its private "
                 "attributes are not to be set from outside (create a new JSONParser)",
                 field, value, rule);
    return -1;
}

static PyObject *
make_event(EventClass *cls, PyObject *a, PyObject *b)
{
    PyObject *event = cls->type->tp_alloc(cls->type, 0);
    if (event == NULL) {
        return NULL;
    }
    Py_INCREF(a);
    *(PyObject **)((char *)event + cls->off0) = a;
    Py_INCREF(b);
    *(PyObject **)((char *)event + cls->off1) = b;
    return event;
}

static inline int
is_atomic(PyObject *obj)
{
    return PyUnicode_CheckExact(obj) || PyLong_CheckExact(obj) || PyFloat_CheckExact(obj) ||
           obj == Py_None || PyBool_Check(obj) ||
           (PyTuple_CheckExact(obj) && !PyObject_GC_IsTracked(obj));
}

/* Append a new event to `out` (NULL when events are off: nothing to do); steals nothing. */
static int
emit(PyObject *out, EventClass *cls, PyObject *a, PyObject *b)
{
    if (out == NULL) {
        return 0;
    }
    PyObject *event = make_event(cls, a, b);
    if (event == NULL) {
        return -1;
    }
    /* Events are frozen: one holding only a path and a str, number or literal can never be
     * part of a cycle, and most events are such. Untracked, the collector skips them. */
    if (is_atomic(b) && is_atomic(a)) {
        PyObject_GC_UnTrack(event);
    }
    int rc = PyList_Append(out, event);
    Py_DECREF(event);
    return rc;
}

/* Raise through the Python `_fail(what, s, pos, cls)` (which always raises). Steals `what`. */
static int
fail_with(Core *self, int state, PyObject *what, PyObject *s, Py_ssize_t pos, PyObject *cls)
{
    self->state = state;
    if (what == NULL) {
        return -1;
    }
    PyObject *pos_obj = PyLong_FromSsize_t(pos);
    if (pos_obj == NULL) {
        Py_DECREF(what);
        return -1;
    }
    PyObject *result;
    if (cls == NULL) {
        result = PyObject_CallMethodObjArgs((PyObject *)self, s_fail, what, s, pos_obj, NULL);
    }
    else {
        result =
            PyObject_CallMethodObjArgs((PyObject *)self, s_fail, what, s, pos_obj, cls, NULL);
    }
    Py_DECREF(what);
    Py_DECREF(pos_obj);
    if (result != NULL) { /* _fail returned: it must not */
        Py_DECREF(result);
        PyErr_SetString(PyExc_SystemError, "_fail() returned instead of raising");
    }
    return -1;
}

/* `what` built with `fmt`, which has one %R for the character `c`. */
static int
fail_char(Core *self, int state, const char *fmt, Py_UCS4 c, PyObject *s, Py_ssize_t pos)
{
    PyObject *ch = PyUnicode_FromOrdinal(c);
    if (ch == NULL) {
        return -1;
    }
    PyObject *what = PyUnicode_FromFormat(fmt, ch);
    Py_DECREF(ch);
    return fail_with(self, state, what, s, pos, NULL);
}

static int
fail_text(Core *self, int state, const char *what, PyObject *s, Py_ssize_t pos, PyObject *cls)
{
    return fail_with(self, state, PyUnicode_FromString(what), s, pos, cls);
}

/* End of the run of plain string characters (not '"', '\\' or a control character). */
static inline Py_ssize_t
string_run(int kind, const void *data, Py_ssize_t pos, Py_ssize_t n)
{
    switch (kind) {
    case PyUnicode_1BYTE_KIND: {
        const Py_UCS1 *p = (const Py_UCS1 *)data;
        while (pos < n) {
            Py_UCS1 c = p[pos];
            if (c == '"' || c == '\\' || c < 0x20) {
                break;
            }
            pos++;
        }
        return pos;
    }
    case PyUnicode_2BYTE_KIND: {
        const Py_UCS2 *p = (const Py_UCS2 *)data;
        while (pos < n) {
            Py_UCS2 c = p[pos];
            if (c == '"' || c == '\\' || c < 0x20) {
                break;
            }
            pos++;
        }
        return pos;
    }
    default: {
        const Py_UCS4 *p = (const Py_UCS4 *)data;
        while (pos < n) {
            Py_UCS4 c = p[pos];
            if (c == '"' || c == '\\' || c < 0x20) {
                break;
            }
            pos++;
        }
        return pos;
    }
    }
}

static inline int
is_ws(Py_UCS4 c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline int
is_digit(Py_UCS4 c)
{
    return c >= '0' && c <= '9';
}

static inline int
is_number_char(Py_UCS4 c)
{
    return is_digit(c) || c == 'e' || c == 'E' || c == '.' || c == '+' || c == '-';
}

static inline int
hex_value(Py_UCS4 c)
{
    if (c >= '0' && c <= '9') {
        return (int)(c - '0');
    }
    if (c >= 'a' && c <= 'f') {
        return (int)(c - 'a' + 10);
    }
    if (c >= 'A' && c <= 'F') {
        return (int)(c - 'A' + 10);
    }
    return -1;
}

/* The four hex digits at `pos` (all present), or -1. */
static int
hex4(int kind, const void *data, Py_ssize_t pos)
{
    int code = 0;
    for (Py_ssize_t i = pos; i < pos + 4; i++) {
        int h = hex_value(PyUnicode_READ(kind, data, i));
        if (h < 0) {
            return -1;
        }
        code = (code << 4) | h;
    }
    return code;
}

/* A new tuple: `path` with `segment` appended. Steals `segment`. */
static PyObject *
path_plus(PyObject *path, PyObject *segment)
{
    if (segment == NULL) {
        return NULL;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(path);
    PyObject *result = PyTuple_New(n + 1);
    if (result == NULL) {
        Py_DECREF(segment);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PyTuple_GET_ITEM(path, i);
        Py_INCREF(item);
        PyTuple_SET_ITEM(result, i, item);
    }
    PyTuple_SET_ITEM(result, n, segment);
    /* Paths hold only str and int: they cannot be part of a cycle, so the collector need not
     * scan them (it would untrack them itself at its first pass, as it does such tuples). */
    PyObject_GC_UnTrack(result);
    return result;
}

static PyObject *
join_parts(PyObject *parts, Py_ssize_t start)
{
    Py_ssize_t n = PyList_GET_SIZE(parts);
    if (start < 0 || start > n) { /* check_state keeps _str_emitted in range: not reached */
        corrupted_int("_str_emitted", start, "outside the parts of the open string");
        return NULL;
    }
    if (n - start == 1) {
        PyObject *only = PyList_GET_ITEM(parts, start);
        if (!PyUnicode_CheckExact(only)) { /* (PyUnicode_Join checks the others) */
            corrupted("_str_parts holds something other than str");
            return NULL;
        }
        Py_INCREF(only);
        return only;
    }
    if (n == start) {
        Py_INCREF(s_empty);
        return s_empty;
    }
    if (start == 0) {
        return PyUnicode_Join(s_empty, parts);
    }
    PyObject *slice = PyList_GetSlice(parts, start, n);
    if (slice == NULL) {
        return NULL;
    }
    PyObject *joined = PyUnicode_Join(s_empty, slice);
    Py_DECREF(slice);
    return joined;
}

/* ------------------------------------------------------------------ value building */

/* Put a newly visible value into its parent; return its path (new reference), or only its
 * key or index when events are off (no event will carry the path: queries rebuild it). */
static PyObject *
place(Core *self, PyObject *value)
{
    Py_ssize_t depth = PyList_GET_SIZE(self->containers);
    if (depth == 0) {
        Py_INCREF(value);
        Py_SETREF(self->root, value);
        self->root_started = 1;
        Py_INCREF(empty_tuple);
        return empty_tuple;
    }
    PyObject *parent = PyList_GET_ITEM(self->containers, depth - 1);
    PyObject *segment;
    if (PyDict_CheckExact(parent)) {
        if (PyDict_SetItem(parent, self->key, value) < 0) {
            return NULL;
        }
        segment = Py_NewRef(self->key);
    }
    else if (PyList_CheckExact(parent)) {
        if (PyList_Append(parent, value) < 0) {
            return NULL;
        }
        segment = PyLong_FromSsize_t(PyList_GET_SIZE(parent) - 1);
    }
    else {
        corrupted("an open container in _containers is neither a dict nor a list");
        return NULL;
    }
    if (!self->events) {
        return segment;
    }
    PyObject *parent_path = PyList_GET_ITEM(self->paths, depth - 1);
    if (!PyTuple_CheckExact(parent_path)) {
        Py_XDECREF(segment);
        corrupted("_paths holds a path that is not a tuple");
        return NULL;
    }
    return path_plus(parent_path, segment);
}

static int
open_string(Core *self, PyObject *out)
{
    Py_ssize_t depth = PyList_GET_SIZE(self->containers);
    if (depth == 0) {
        Py_INCREF(Py_None);
        Py_SETREF(self->str_container, Py_None);
        Py_INCREF(Py_None);
        Py_SETREF(self->str_slot, Py_None);
    }
    else {
        PyObject *parent = PyList_GET_ITEM(self->containers, depth - 1);
        PyObject *slot;
        if (PyDict_CheckExact(parent)) {
            slot = self->key;
            Py_INCREF(slot);
        }
        else if (!PyList_CheckExact(parent)) {
            return corrupted("an open container in _containers is neither a dict nor a list");
        }
        else {
            slot = PyLong_FromSsize_t(PyList_GET_SIZE(parent));
            if (slot == NULL) {
                return -1;
            }
        }
        Py_INCREF(parent);
        Py_SETREF(self->str_container, parent);
        Py_SETREF(self->str_slot, slot);
    }
    PyObject *path = place(self, s_empty);
    if (path == NULL) {
        return -1;
    }
    if (!self->events) {
        Py_DECREF(path); /* only its key or index: the string's path stays (), see above */
    }
    else {
        Py_SETREF(self->str_path, path);
    }
    self->str_len = 0;
    if (PyList_SetSlice(self->str_parts, 0, PyList_GET_SIZE(self->str_parts), NULL) < 0) {
        return -1;
    }
    self->str_joined = self->str_emitted = 0;
    self->state = ST_STRING;
    return emit(out, &ev_started, self->str_path, s_string);
}

static int
store_string(Core *self, PyObject *text)
{
    PyObject *container = self->str_container;
    PyObject *slot = self->str_slot;
    if (container == Py_None) {
        Py_INCREF(text);
        Py_SETREF(self->root, text);
        return 0;
    }
    if (PyDict_CheckExact(container) && PyUnicode_CheckExact(slot)) {
        return PyDict_SetItem(container, slot, text);
    }
    if (PyList_CheckExact(container) && PyLong_CheckExact(slot)) {
        Py_ssize_t i = PyLong_AsSsize_t(slot);
        if (i >= 0 && i < PyList_GET_SIZE(container)) {
            Py_INCREF(text);
            return PyList_SetItem(container, i, text);
        }
        PyErr_Clear();
    }
    return corrupted("_str_container and _str_slot do not name a slot of the open string");
}

static int
emit_string_text(Core *self, PyObject *out)
{
    PyObject *parts = self->str_parts;
    PyObject *piece = join_parts(parts, self->str_emitted);
    if (piece == NULL) {
        return -1;
    }
    self->str_emitted = PyList_GET_SIZE(parts);
    int rc = 0;
    if (PyUnicode_GET_LENGTH(piece)) {
        rc = emit(out, &ev_appended, self->str_path, piece);
    }
    Py_DECREF(piece);
    return rc;
}

/* What the open string's slot holds now (borrowed; NULL when it holds nothing). */
static PyObject *
slot_value(Core *self)
{
    PyObject *container = self->str_container;
    if (container == Py_None) {
        return self->root;
    }
    if (PyDict_CheckExact(container) && PyUnicode_CheckExact(self->str_slot)) {
        return PyDict_GetItemWithError(container, self->str_slot);
    }
    if (PyList_CheckExact(container) && PyLong_CheckExact(self->str_slot)) {
        Py_ssize_t i = PyLong_AsSsize_t(self->str_slot);
        if (i >= 0 && i < PyList_GET_SIZE(container)) {
            return PyList_GET_ITEM(container, i);
        }
        PyErr_Clear();
    }
    return NULL;
}

/* Show the open string by appending the new parts to the string already shown, in place,
 * when nothing but the parser holds that string (its parts list and its slot: a reference
 * count of exactly 2). Nobody can then see it change, and CPython grows a str in place
 * under the same rule (`s += t` with one reference), so reading `value` after every chunk
 * costs the new text, not the whole string. Returns 1 when done, 0 when not applicable (a
 * caller, an event or a variable still holds the shown string: build a new one), -1 on
 * error. */
static int
join_in_place(Core *self, int all_emitted)
{
    PyObject *parts = self->str_parts;
    Py_ssize_t n = PyList_GET_SIZE(parts);
    if (n < 2 || self->str_joined != 1) {
        return 0;
    }
    PyObject *shown = PyList_GET_ITEM(parts, 0);
    if (Py_REFCNT(shown) != 2 || !PyUnicode_CheckExact(shown) || slot_value(self) != shown) {
        return PyErr_Occurred() ? -1 : 0;
    }
    /* Take `shown` out of its list item and its slot (None in both for a moment), keeping
     * one reference of our own: then PyUnicode_Append may resize it in place. */
    Py_INCREF(shown);
    Py_INCREF(Py_None);
    if (PyList_SetItem(parts, 0, Py_None) < 0 || store_string(self, Py_None) < 0) {
        Py_DECREF(shown);
        return -1;
    }
    for (Py_ssize_t i = 1; i < n && shown != NULL; i++) {
        PyUnicode_Append(&shown, PyList_GET_ITEM(parts, i));
    }
    if (shown == NULL) {
        return -1;
    }
    Py_INCREF(shown);
    int rc = PyList_SetItem(parts, 0, shown); /* steals the new reference */
    if (rc == 0) {
        rc = PyList_SetSlice(parts, 1, n, NULL);
    }
    if (rc == 0) {
        rc = store_string(self, shown);
    }
    Py_DECREF(shown);
    self->str_joined = 1;
    self->str_emitted = all_emitted ? 1 : 0;
    return rc < 0 ? -1 : 1;
}

static int
join_open_string(Core *self)
{
    PyObject *parts = self->str_parts;
    Py_ssize_t n = PyList_GET_SIZE(parts);
    int all_emitted = self->str_emitted == n;
    int done = join_in_place(self, all_emitted);
    if (done != 0) {
        return done < 0 ? -1 : 0;
    }
    PyObject *joined = join_parts(parts, 0);
    if (joined == NULL) {
        return -1;
    }
    int rc;
    if (PyUnicode_GET_LENGTH(joined)) {
        PyObject *one = PyList_New(1);
        if (one == NULL) {
            Py_DECREF(joined);
            return -1;
        }
        Py_INCREF(joined);
        PyList_SET_ITEM(one, 0, joined);
        rc = PyList_SetSlice(parts, 0, n, one);
        Py_DECREF(one);
    }
    else {
        rc = PyList_SetSlice(parts, 0, n, NULL);
    }
    if (rc == 0) {
        n = PyList_GET_SIZE(parts);
        self->str_joined = n;
        self->str_emitted = all_emitted ? n : 0;
        rc = store_string(self, joined);
    }
    Py_DECREF(joined);
    return rc;
}

static int
document_done(Core *self, PyObject *out)
{
    PyObject *index = PyLong_FromSsize_t(PyList_GET_SIZE(self->documents));
    if (index == NULL) {
        return -1;
    }
    int rc = 0;
    if (self->multiple) {
        rc = PyList_Append(self->documents, self->root);
    }
    if (rc == 0) {
        rc = emit(out, &ev_document, self->root, index);
    }
    Py_DECREF(index);
    return rc;
}

/* The root value closed: the next state, -1 when the rest of the input is not ours (lenient,
 * one document), -2 on error. */
static int
root_done(Core *self, PyObject *out)
{
    self->state = ST_DONE;
    if (document_done(self, out) < 0) {
        return -2;
    }
    if (self->lenient && !self->multiple) {
        return -1;
    }
    return ST_DONE;
}

/* Decode the escape at `pos` (s[pos] is a backslash). Sets *decoded (new reference) and
 * *used; *used == 0 when it is not complete yet. The common, complete and valid forms are
 * decoded here (returns 0); the rest (incomplete or invalid) goes to the Python `_escape`,
 * which holds back or raises with the exact message (returns 1: Python code ran). -1 on
 * error. */
static int
escape(Core *self, PyObject *s, int kind, const void *data, Py_ssize_t pos, Py_ssize_t n,
       PyObject **decoded, Py_ssize_t *used)
{
    if (pos + 1 < n) {
        Py_UCS4 e = PyUnicode_READ(kind, data, pos + 1);
        Py_UCS4 c = 0x110000;
        switch (e) {
        case '"': c = '"'; break;
        case '\\': c = '\\'; break;
        case '/': c = '/'; break;
        case 'b': c = '\b'; break;
        case 'f': c = '\f'; break;
        case 'n': c = '\n'; break;
        case 'r': c = '\r'; break;
        case 't': c = '\t'; break;
        case 'u':
            if (pos + 6 <= n) {
                int code = hex4(kind, data, pos + 2);
                if (code >= 0 && (code < 0xD800 || code >= 0xE000)) {
                    c = (Py_UCS4)code;
                    *used = 6;
                }
                else if (code >= 0xD800 && code < 0xDC00 && pos + 12 <= n &&
                         PyUnicode_READ(kind, data, pos + 6) == '\\' &&
                         PyUnicode_READ(kind, data, pos + 7) == 'u') {
                    int low = hex4(kind, data, pos + 8);
                    if (low >= 0xDC00 && low < 0xE000) {
                        c = 0x10000 + (((Py_UCS4)code - 0xD800) << 10) +
                            ((Py_UCS4)low - 0xDC00);
                        *used = 12;
                    }
                }
            }
            break;
        default:
            break;
        }
        if (c != 0x110000) {
            if (e != 'u') {
                *used = 2;
            }
            *decoded = PyUnicode_FromOrdinal(c);
            return *decoded == NULL ? -1 : 0;
        }
    }
    PyObject *pos_obj = PyLong_FromSsize_t(pos);
    if (pos_obj == NULL) {
        return -1;
    }
    PyObject *result = PyObject_CallMethodObjArgs((PyObject *)self, s_escape, s, pos_obj, NULL);
    Py_DECREF(pos_obj);
    if (result == NULL) {
        return -1;
    }
    if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 2) {
        Py_DECREF(result);
        PyErr_SetString(PyExc_SystemError, "_escape() must return (str, int)");
        return -1;
    }
    *used = PyLong_AsSsize_t(PyTuple_GET_ITEM(result, 1));
    *decoded = PyTuple_GET_ITEM(result, 0);
    Py_INCREF(*decoded);
    Py_DECREF(result);
    if (*used < 0 && PyErr_Occurred()) {
        Py_CLEAR(*decoded);
        return -1;
    }
    if (*used < 0 || *used > n - pos || !PyUnicode_CheckExact(*decoded)) {
        Py_CLEAR(*decoded);
        PyErr_SetString(PyExc_SystemError, "_escape() must return (str, a length within the text)");
        return -1;
    }
    return 1;
}

/* The end of the longest prefix of s[pos:end] that a valid number can still start with
 * (as `_NUMBER_PREFIX` in _parser.py: the grammar is LL(1), so this is a greedy walk). */
static Py_ssize_t
number_prefix_end(int kind, const void *data, Py_ssize_t pos, Py_ssize_t end)
{
    Py_ssize_t i = pos;
    if (i < end && PyUnicode_READ(kind, data, i) == '-') {
        i++;
    }
    if (i >= end) {
        return i;
    }
    Py_UCS4 c = PyUnicode_READ(kind, data, i);
    if (c == '0') {
        i++;
    }
    else if (is_digit(c)) {
        while (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
            i++;
        }
    }
    else {
        return i;
    }
    if (i >= end) {
        return i;
    }
    c = PyUnicode_READ(kind, data, i);
    if (c == '.') {
        i++;
        if (i >= end || !is_digit(PyUnicode_READ(kind, data, i))) {
            return i;
        }
        while (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
            i++;
        }
        if (i >= end) {
            return i;
        }
        c = PyUnicode_READ(kind, data, i);
    }
    if (c != 'e' && c != 'E') {
        return i;
    }
    i++;
    if (i < end && (PyUnicode_READ(kind, data, i) == '+' || PyUnicode_READ(kind, data, i) == '-')) {
        i++;
    }
    while (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
        i++;
    }
    return i;
}

/* A complete number token s[pos:end]: int or float, or NULL with *invalid set (not a
 * number) or with the ValueError of int() set (more digits than the interpreter converts). */
static PyObject *
number_value(PyObject *s, int kind, const void *data, Py_ssize_t pos, Py_ssize_t end,
             int *invalid)
{
    Py_ssize_t i = pos;
    int is_float = 0;
    if (PyUnicode_READ(kind, data, i) == '-') {
        i++;
    }
    Py_ssize_t digits_start = i;
    if (i < end && PyUnicode_READ(kind, data, i) == '0') {
        i++;
    }
    else if (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
        while (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
            i++;
        }
    }
    else {
        *invalid = 1;
        return NULL;
    }
    Py_ssize_t int_digits = i - digits_start;
    if (i < end && PyUnicode_READ(kind, data, i) == '.') {
        i++;
        if (!(i < end && is_digit(PyUnicode_READ(kind, data, i)))) {
            *invalid = 1;
            return NULL;
        }
        while (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
            i++;
        }
        is_float = 1;
    }
    if (i < end && (PyUnicode_READ(kind, data, i) == 'e' || PyUnicode_READ(kind, data, i) == 'E')) {
        i++;
        if (i < end && (PyUnicode_READ(kind, data, i) == '+' || PyUnicode_READ(kind, data, i) == '-')) {
            i++;
        }
        if (!(i < end && is_digit(PyUnicode_READ(kind, data, i)))) {
            *invalid = 1;
            return NULL;
        }
        while (i < end && is_digit(PyUnicode_READ(kind, data, i))) {
            i++;
        }
        is_float = 1;
    }
    if (i != end) {
        *invalid = 1;
        return NULL;
    }
    if (!is_float && int_digits <= 18) {
        long long v = 0;
        for (Py_ssize_t j = digits_start; j < end; j++) {
            v = v * 10 + (long long)(PyUnicode_READ(kind, data, j) - '0');
        }
        return PyLong_FromLongLong(digits_start > pos ? -v : v);
    }
    /* Number characters are ASCII: copy them out for the C conversions. */
    char small[64];
    Py_ssize_t len = end - pos;
    char *buf = len < (Py_ssize_t)sizeof(small) ? small : PyMem_Malloc((size_t)len + 1);
    if (buf == NULL) {
        return PyErr_NoMemory();
    }
    for (Py_ssize_t j = 0; j < len; j++) {
        buf[j] = (char)PyUnicode_READ(kind, data, pos + j);
    }
    buf[len] = '\0';
    PyObject *result;
    if (is_float) {
        /* The same conversion as float(str): correctly rounded, inf on overflow. */
        double d = PyOS_string_to_double(buf, NULL, NULL);
        result = (d == -1.0 && PyErr_Occurred()) ? NULL : PyFloat_FromDouble(d);
    }
    else {
        /* As int(str), including its limit on the number of digits. */
        result = PyLong_FromString(buf, NULL, 10);
    }
    if (buf != small) {
        PyMem_Free(buf);
    }
    (void)s;
    return result;
}

/* Raise "invalid number" naming s[pos:stop]. */
static void
invalid_number(Core *self, int state, PyObject *s, Py_ssize_t pos, Py_ssize_t stop)
{
    PyObject *token = PyUnicode_Substring(s, pos, stop);
    if (token != NULL) {
        fail_with(self, state, PyUnicode_FromFormat("invalid number %R", token), s, pos, NULL);
        Py_DECREF(token);
    }
}

/* int() refused the integer s[pos:end] (its ValueError is set): raise through the Python
 * `_fail_long_int`, chained to that ValueError. */
static void
long_int(Core *self, int state, PyObject *s, Py_ssize_t pos, Py_ssize_t end)
{
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    if (traceback != NULL && value != NULL) {
        PyException_SetTraceback(value, traceback);
    }
    self->state = state;
    PyObject *start = PyLong_FromSsize_t(pos);
    PyObject *stop = PyLong_FromSsize_t(end);
    if (start != NULL && stop != NULL && value != NULL) {
        PyObject *result = PyObject_CallMethodObjArgs((PyObject *)self, s_fail_long_int, s,
                                                      start, stop, value, NULL);
        if (result != NULL) { /* it must not return */
            Py_DECREF(result);
            PyErr_SetString(PyExc_SystemError, "_fail_long_int() returned instead of raising");
        }
    }
    Py_XDECREF(start);
    Py_XDECREF(stop);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
}

/* A value (number or literal) completed at the root or in a container; next state or <0. */
static int
scalar_done(Core *self, PyObject *value, PyObject *out)
{
    PyObject *path = place(self, value);
    if (path == NULL) {
        return -2;
    }
    int rc = emit(out, &ev_completed, path, value);
    Py_DECREF(path);
    if (rc < 0) {
        return -2;
    }
    if (PyList_GET_SIZE(self->containers)) {
        return ST_AFTER_VALUE;
    }
    return root_done(self, out);
}

/* A container closed; next state or <0. */
static int
container_done(Core *self, PyObject *out)
{
    Py_ssize_t depth = PyList_GET_SIZE(self->containers);
    PyObject *container = PyList_GET_ITEM(self->containers, depth - 1);
    PyObject *path = PyList_GET_ITEM(self->paths, depth - 1);
    Py_INCREF(container);
    Py_INCREF(path);
    int rc = PyList_SetSlice(self->containers, depth - 1, depth, NULL);
    if (rc == 0) {
        rc = PyList_SetSlice(self->paths, depth - 1, depth, NULL);
    }
    if (rc == 0) {
        rc = emit(out, &ev_completed, path, container);
    }
    Py_DECREF(container);
    Py_DECREF(path);
    if (rc < 0) {
        return -2;
    }
    if (depth > 1) {
        return ST_AFTER_VALUE;
    }
    return root_done(self, out);
}

/* After a call into Python code in the middle of a scan (the `_escape` method, which a
 * subclass may override): the fields may have changed, so check them again, and take the
 * containers list afresh (the one the scan held may be gone). */
static int
recheck(Core *self, int state, PyObject **containers)
{
    if (check_fields(self) < 0 || check_state(self) < 0) {
        return -1;
    }
    if (self->state != state) {
        return corrupted_int("_state", self->state, "changed during a feed");
    }
    *containers = self->containers;
    return 0;
}

/* The string or key whose next characters start at `pos` of `s` goes past max_string_length:
 * raise at the first character beyond it (a plain one or an escape), with the string cut
 * there in the partial value (`parts` gets the characters that still fit), whatever the
 * split. Mirrors `_PyParser._string_too_long`. */
static int
string_too_long(Core *self, int state, PyObject *s, Py_ssize_t pos, PyObject *parts)
{
    Py_ssize_t room = self->max_string - self->str_len;
    if (room < 0) {
        room = 0;
    }
    if (room) {
        PyObject *part = PyUnicode_Substring(s, pos, pos + room);
        if (part == NULL) {
            return -1;
        }
        int rc = PyList_Append(parts, part);
        Py_DECREF(part);
        if (rc < 0) {
            return -1;
        }
    }
    return fail_with(self, state,
                     PyUnicode_FromFormat("%s longer than max_string_length=%R",
                                          state == ST_KEY_STRING ? "key" : "string",
                                          self->max_string_length),
                     s, pos + room, limit_error);
}

/* ------------------------------------------------------------------ the state machine */

/* A value closed: go on in the state `next_state` says (a value's next state, or root_done's
 * -1: the rest of the input is not ours, lenient mode; -2: an error). A plain block, not
 * do-while, so that `continue` continues the scanning loop. */
#define GO_ON(next_state)                                                                  \
    {                                                                                      \
        next = (next_state);                                                               \
        if (next == -2) {                                                                  \
            goto error;                                                                    \
        }                                                                                  \
        if (next == -1) {                                                                  \
            return n;                                                                      \
        }                                                                                  \
        state = next;                                                                      \
        continue;                                                                          \
    }

/* Run the state machine over `s`; return how far it got (the rest is held back), -1 on
 * error. Mirrors `_PyParser._scan` line for line. */
static Py_ssize_t
scan(Core *self, PyObject *s, PyObject *out)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t pos = 0;
    int state = self->state;
    PyObject *containers = self->containers;
    Py_UCS4 c;
    int next;

    while (pos < n) {
        if (state == ST_STRING) {
            Py_ssize_t end = string_run(kind, data, pos, n);
            if (end > pos) {
                /* str_len + (end - pos) > max_string, without overflow (both are >= 0) */
                if (end - pos > self->max_string - self->str_len) {
                    string_too_long(self, state, s, pos, self->str_parts);
                    goto error;
                }
                PyObject *part = PyUnicode_Substring(s, pos, end);
                if (part == NULL) {
                    goto error;
                }
                int rc = PyList_Append(self->str_parts, part);
                Py_DECREF(part);
                if (rc < 0) {
                    goto error;
                }
                self->str_len += end - pos;
                pos = end;
                if (pos >= n) {
                    break;
                }
            }
            c = PyUnicode_READ(kind, data, pos);
            if (c == '"') {
                pos++;
                if (out != NULL && self->str_emitted < PyList_GET_SIZE(self->str_parts) &&
                    emit_string_text(self, out) < 0) {
                    goto error;
                }
                PyObject *final = join_parts(self->str_parts, 0);
                if (final == NULL) {
                    goto error;
                }
                int rc = PyList_SetSlice(self->str_parts, 0, PyList_GET_SIZE(self->str_parts),
                                         NULL);
                self->str_joined = self->str_emitted = 0;
                if (rc == 0) {
                    rc = store_string(self, final);
                }
                if (rc == 0) {
                    rc = emit(out, &ev_completed, self->str_path, final);
                }
                Py_DECREF(final);
                if (rc < 0) {
                    goto error;
                }
                GO_ON(PyList_GET_SIZE(containers) ? ST_AFTER_VALUE : root_done(self, out));
            }
            if (c == '\\') {
                self->state = state;
                PyObject *decoded = NULL;
                Py_ssize_t used = 0;
                int how = escape(self, s, kind, data, pos, n, &decoded, &used);
                if (how < 0) {
                    goto error;
                }
                if (how > 0 && recheck(self, state, &containers) < 0) {
                    Py_DECREF(decoded);
                    goto error;
                }
                if (!used) {
                    Py_DECREF(decoded);
                    break; /* an unfinished escape: hold it back */
                }
                if (self->str_len >= self->max_string) { /* an escape is one character */
                    Py_DECREF(decoded);
                    string_too_long(self, state, s, pos, self->str_parts);
                    goto error;
                }
                int rc = PyList_Append(self->str_parts, decoded);
                Py_DECREF(decoded);
                if (rc < 0) {
                    goto error;
                }
                self->str_len += 1; /* < max_string <= PY_SSIZE_T_MAX before */
                pos += used;
                continue;
            }
            fail_char(self, state, "control character %R in a string", c, s, pos);
            goto error;
        }

        c = PyUnicode_READ(kind, data, pos);
        if (is_ws(c) && state != ST_KEY_STRING) {
            pos++;
            while (pos < n && is_ws(PyUnicode_READ(kind, data, pos))) {
                pos++;
            }
            if (pos >= n) {
                break;
            }
            c = PyUnicode_READ(kind, data, pos);
        }

        /* Inside this switch `break` would only leave the switch: the cases leave the loop
         * with `goto out_of_loop`. */
        switch (state) {
        case ST_AFTER_VALUE: {
            PyObject *container =
                PyList_GET_ITEM(containers, PyList_GET_SIZE(containers) - 1);
            int is_dict = PyDict_CheckExact(container);
            if (c == ',') {
                pos++;
                state = is_dict ? ST_KEY : ST_VALUE;
                continue;
            }
            if (c == (Py_UCS4)(is_dict ? '}' : ']')) {
                pos++;
                GO_ON(container_done(self, out));
            }
            fail_char(self, state,
                      is_dict ? "expected ',' or '}', found %R" : "expected ',' or ']', found %R",
                      c, s, pos);
            goto error;
        }

        case ST_VALUE:
        case ST_ARRAY_FIRST: {
            if (c == '"') {
                pos++;
                if (open_string(self, out) < 0) {
                    goto error;
                }
                state = ST_STRING;
                continue;
            }
            if (c == '{' || c == '[') {
                pos++;
                if (PyList_GET_SIZE(containers) >= self->max_depth) {
                    fail_with(self, state,
                              PyUnicode_FromFormat("nesting deeper than max_depth=%zd",
                                                   self->max_depth),
                              s, pos - 1, limit_error);
                    goto error;
                }
                PyObject *new = c == '{' ? PyDict_New() : PyList_New(0);
                if (new == NULL) {
                    goto error;
                }
                PyObject *path = place(self, new);
                if (path == NULL) {
                    Py_DECREF(new);
                    goto error;
                }
                int rc = PyList_Append(containers, new);
                if (rc == 0) {
                    rc = PyList_Append(self->paths, path);
                }
                if (rc == 0) {
                    rc = emit(out, &ev_started, path, c == '{' ? s_object : s_array);
                }
                Py_DECREF(new);
                Py_DECREF(path);
                if (rc < 0) {
                    goto error;
                }
                state = c == '{' ? ST_OBJECT_FIRST : ST_ARRAY_FIRST;
                continue;
            }
            if (c == '-' || is_digit(c)) {
                Py_ssize_t end = pos + 1;
                while (end < n && is_number_char(PyUnicode_READ(kind, data, end))) {
                    end++;
                }
                Py_ssize_t max_length = self->max_number_length;
                if (end >= n || end - pos > max_length) {
                    /* Held back or too long: refuse a character no number can go on with as
                     * soon as it arrives (before the limit, if it comes first). */
                    Py_ssize_t good = number_prefix_end(kind, data, pos, end);
                    if (good < end && good - pos <= max_length) {
                        invalid_number(self, state, s, pos, good + 1);
                        goto error;
                    }
                    if (end - pos > max_length) {
                        fail_with(self, state,
                                  PyUnicode_FromFormat(
                                      "number longer than max_number_length=%zd", max_length),
                                  s, pos, limit_error);
                        goto error;
                    }
                    goto out_of_loop; /* the number may go on in the next chunk */
                }
                int invalid = 0;
                PyObject *number = number_value(s, kind, data, pos, end, &invalid);
                if (number == NULL) {
                    if (invalid) {
                        Py_ssize_t good = number_prefix_end(kind, data, pos, end);
                        invalid_number(self, state, s, pos, good < end ? good + 1 : end);
                    }
                    else if (PyErr_ExceptionMatches(PyExc_ValueError)) {
                        long_int(self, state, s, pos, end);
                    }
                    goto error;
                }
                pos = end;
                next = scalar_done(self, number, out);
                Py_DECREF(number);
                GO_ON(next);
            }
            if (c == 't' || c == 'f' || c == 'n') {
                const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";
                PyObject *lit = c == 't' ? Py_True : c == 'f' ? Py_False : Py_None;
                Py_ssize_t len = (Py_ssize_t)strlen(word);
                Py_ssize_t i = 0;
                while (i < len && pos + i < n &&
                       PyUnicode_READ(kind, data, pos + i) == (Py_UCS4)word[i]) {
                    i++;
                }
                if (i == len) {
                    pos += len;
                    GO_ON(scalar_done(self, lit, out));
                }
                if (pos + i == n) {
                    goto out_of_loop; /* an unfinished literal: hold it back */
                }
                fail_with(self, state,
                          PyUnicode_FromFormat("invalid literal, expected '%s'", word), s, pos,
                          NULL);
                goto error;
            }
            if (c == ']' && state == ST_ARRAY_FIRST) {
                pos++;
                GO_ON(container_done(self, out));
            }
            if (c == ']') {
                fail_text(self, state, "trailing comma before ']'", s, pos, NULL);
                goto error;
            }
            fail_char(self, state, "expected a value, found %R", c, s, pos);
            goto error;
        }

        case ST_OBJECT_FIRST:
        case ST_KEY: {
            if (c == '"') {
                pos++;
                Py_ssize_t end = string_run(kind, data, pos, n);
                if (end < n && PyUnicode_READ(kind, data, end) == '"' &&
                    end - pos <= self->max_string) {
                    /* The whole key is in this chunk: the common case, no parts list. (A key
                     * over the limit takes the general path, which reports it.) */
                    PyObject *key = PyUnicode_Substring(s, pos, end);
                    if (key == NULL) {
                        goto error;
                    }
                    Py_SETREF(self->key, key);
                    pos = end + 1;
                    state = ST_COLON;
                }
                else {
                    PyObject *parts = PyList_New(0);
                    if (parts == NULL) {
                        goto error;
                    }
                    Py_SETREF(self->key_parts, parts);
                    self->str_len = 0;
                    state = ST_KEY_STRING;
                }
                continue;
            }
            if (c == '}' && state == ST_OBJECT_FIRST) {
                pos++;
                GO_ON(container_done(self, out));
            }
            if (c == '}') {
                fail_text(self, state, "trailing comma before '}'", s, pos, NULL);
                goto error;
            }
            fail_char(self, state, "expected a string key, found %R", c, s, pos);
            goto error;
        }

        case ST_COLON:
            if (c == ':') {
                pos++;
                state = ST_VALUE;
                continue;
            }
            fail_char(self, state, "expected ':' after a key, found %R", c, s, pos);
            goto error;

        case ST_KEY_STRING: {
            Py_ssize_t end = string_run(kind, data, pos, n);
            if (end > pos) {
                if (end - pos > self->max_string - self->str_len) { /* without overflow */
                    string_too_long(self, state, s, pos, self->key_parts);
                    goto error;
                }
                PyObject *part = PyUnicode_Substring(s, pos, end);
                if (part == NULL) {
                    goto error;
                }
                int rc = PyList_Append(self->key_parts, part);
                Py_DECREF(part);
                if (rc < 0) {
                    goto error;
                }
                self->str_len += end - pos;
                pos = end;
                if (pos >= n) {
                    goto out_of_loop;
                }
                c = PyUnicode_READ(kind, data, pos);
            }
            if (c == '"') {
                pos++;
                PyObject *key = PyUnicode_Join(s_empty, self->key_parts);
                if (key == NULL) {
                    goto error;
                }
                Py_SETREF(self->key, key);
                PyObject *parts = PyList_New(0);
                if (parts == NULL) {
                    goto error;
                }
                Py_SETREF(self->key_parts, parts);
                state = ST_COLON;
                continue;
            }
            if (c == '\\') {
                self->state = state;
                PyObject *decoded = NULL;
                Py_ssize_t used = 0;
                int how = escape(self, s, kind, data, pos, n, &decoded, &used);
                if (how < 0) {
                    goto error;
                }
                if (how > 0 && recheck(self, state, &containers) < 0) {
                    Py_DECREF(decoded);
                    goto error;
                }
                if (!used) {
                    Py_DECREF(decoded);
                    goto out_of_loop; /* an unfinished escape: hold it back */
                }
                if (self->str_len >= self->max_string) { /* an escape is one character */
                    Py_DECREF(decoded);
                    string_too_long(self, state, s, pos, self->key_parts);
                    goto error;
                }
                int rc = PyList_Append(self->key_parts, decoded);
                Py_DECREF(decoded);
                if (rc < 0) {
                    goto error;
                }
                self->str_len += 1; /* < max_string <= PY_SSIZE_T_MAX before */
                pos += used;
                continue;
            }
            fail_char(self, state, "control character %R in a key", c, s, pos);
            goto error;
        }

        case ST_DONE:
            if (self->lenient && !self->multiple) {
                self->state = state;
                return n; /* lenient: whatever follows the root value is not ours */
            }
            if (self->multiple) {
                state = self->lenient ? ST_SKIP : ST_VALUE;
                self->root_started = 0;
                continue;
            }
            fail_char(self, state, "extra data after the JSON value: %R", c, s, pos);
            goto error;

        case ST_SKIP: {
            Py_ssize_t i = pos;
            while (i < n) {
                Py_UCS4 d = PyUnicode_READ(kind, data, i);
                if (d == '{' || d == '[') {
                    break;
                }
                i++;
            }
            pos = i;
            if (i >= n) {
                goto out_of_loop;
            }
            state = ST_VALUE;
            continue;
        }

        default:
            PyErr_Format(PyExc_SystemError, "unreachable parser state %d", state);
            goto error;
        }
    }
out_of_loop:
    self->state = state;
    return pos;

error:
    if (self->state < ST_ERROR && !PyErr_Occurred()) {
        PyErr_SetString(PyExc_SystemError, "parser error without an exception");
    }
    return -1;
}

#undef GO_ON

/* ------------------------------------------------------------------ consume / feed */

/* How many characters of `s` fit whole in `room` UTF-8 bytes. */
static Py_ssize_t
fitting(PyObject *s, Py_ssize_t room)
{
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (room <= 0) {
        return 0;
    }
    if (PyUnicode_IS_ASCII(s)) {
        return n < room ? n : room;
    }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t i = 0;
    for (; i < n; i++) {
        Py_UCS4 ch = PyUnicode_READ(kind, data, i);
        Py_ssize_t size = ch < 0x80 ? 1 : ch < 0x800 ? 2 : ch < 0x10000 ? 3 : 4;
        if (size > room) {
            break;
        }
        room -= size;
    }
    return i;
}

static PyObject *
consume(Core *self, PyObject *text)
{
    PyObject *s;
    if (PyUnicode_GET_LENGTH(self->pending)) {
        s = PyUnicode_Concat(self->pending, text);
        if (s == NULL) {
            return NULL;
        }
        Py_INCREF(s_empty);
        Py_SETREF(self->pending, s_empty);
    }
    else {
        Py_INCREF(text);
        s = text;
    }
    /* max_size counts the input received, held-back text included: only what fits is
     * scanned, and the first character beyond the limit is refused (in any split). A
     * character is at most 4 bytes: far from the limit, nothing is counted here. */
    int too_large = 0;
    Py_ssize_t room = self->max_size_bytes - self->pos_bytes; /* both >= 0: check_state */
    if (PyUnicode_GET_LENGTH(s) > room / 4) {
        Py_ssize_t fits = fitting(s, room);
        if (fits < PyUnicode_GET_LENGTH(s)) {
            PyObject *head = PyUnicode_Substring(s, 0, fits);
            Py_DECREF(s);
            if (head == NULL) {
                return NULL;
            }
            s = head;
            too_large = 1;
        }
    }
    PyObject *out = NULL;
    if (self->events && (out = PyList_New(0)) == NULL) {
        Py_DECREF(s);
        return NULL;
    }
    Py_ssize_t pos = scan(self, s, out);
    if (pos < 0) {
        goto error;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (pos < n) {
        PyObject *rest = PyUnicode_Substring(s, pos, n);
        if (rest == NULL) {
            goto error;
        }
        Py_SETREF(self->pending, rest);
    }
    /* Track where the unconsumed text starts, for error messages. */
    {
        int kind = PyUnicode_KIND(s);
        const void *data = PyUnicode_DATA(s);
        Py_ssize_t nbytes = pos, newlines = 0, last_newline = -1;
        if (PyUnicode_IS_ASCII(s)) {
            const Py_UCS1 *p = (const Py_UCS1 *)data;
            const Py_UCS1 *hit = p;
            while ((hit = memchr(hit, '\n', (size_t)(p + pos - hit))) != NULL) {
                newlines++;
                last_newline = hit - p;
                hit++;
            }
        }
        else {
            nbytes = 0;
            for (Py_ssize_t i = 0; i < pos; i++) {
                Py_UCS4 ch = PyUnicode_READ(kind, data, i);
                nbytes += ch < 0x80 ? 1 : ch < 0x800 ? 2 : ch < 0x10000 ? 3 : 4;
                if (ch == '\n') {
                    newlines++;
                    last_newline = i;
                }
            }
        }
        /* No overflow, whatever the fields were set to (the counts are >= 0, check_state). */
        if (nbytes > PY_SSIZE_T_MAX - self->pos_bytes) {
            corrupted_int("_pos_bytes", self->pos_bytes, "too large to count more input");
            goto error;
        }
        if (newlines > PY_SSIZE_T_MAX - self->pos_line) {
            corrupted_int("_pos_line", self->pos_line, "too large to count more lines");
            goto error;
        }
        if (!newlines && pos > PY_SSIZE_T_MAX - self->pos_column) {
            corrupted_int("_pos_column", self->pos_column, "too large to count more input");
            goto error;
        }
        self->pos_bytes += nbytes;
        if (newlines) {
            self->pos_line += newlines;
            self->pos_column = pos - last_newline;
        }
        else {
            self->pos_column += pos;
        }
    }
    if (too_large) {
        fail_with(self, self->state,
                  PyUnicode_FromFormat("document larger than max_size=%R bytes", self->max_size),
                  self->pending, PyUnicode_GET_LENGTH(self->pending), limit_error);
        goto error;
    }
    if (out != NULL && self->state == ST_STRING &&
        self->str_emitted < PyList_GET_SIZE(self->str_parts) && emit_string_text(self, out) < 0) {
        goto error;
    }
    Py_DECREF(s);
    return out != NULL ? out : PyList_New(0);

error:
    Py_DECREF(s);
    Py_XDECREF(out);
    return NULL;
}

#define CORE_OBJECT_FIELDS(X)                                                                 \
    X(containers) X(paths) X(key) X(key_parts) X(pending) X(root) X(documents) X(str_parts) \
        X(str_container) X(str_slot) X(str_path) X(decoder) X(error) X(max_size)              \
            X(max_string_length)

/* Field types are set by the Python constructor; check them once per call, since a wrong
 * type (or a deleted attribute, which leaves NULL) would crash the C code where Python would
 * raise. (Reading `value` needs only this; feeding also needs check_state.) */
static int
check_fields(Core *self)
{
    if (!ready) {
        PyErr_SetString(PyExc_RuntimeError, "streamdantic._speedups.setup() was not called");
        return -1;
    }
#define MISSING(f) self->f == NULL ||
    if (CORE_OBJECT_FIELDS(MISSING) !PyList_CheckExact(self->containers) ||
        !PyList_CheckExact(self->paths) || !PyList_CheckExact(self->str_parts) ||
        !PyList_CheckExact(self->key_parts) || !PyList_CheckExact(self->documents) ||
        !PyUnicode_CheckExact(self->pending) || !PyUnicode_CheckExact(self->key) ||
        (self->events && !PyTuple_CheckExact(self->str_path))) {
        return corrupted("a private attribute is missing or holds the wrong type");
    }
    if (PyList_GET_SIZE(self->containers) != PyList_GET_SIZE(self->paths)) {
        return corrupted("_containers and _paths differ in length");
    }
#undef MISSING
    return 0;
}

/* The integer fields and the state against the containers, before a scan relies on them
 * (the member descriptors only check that they are ints that fit): a state that needs an
 * open container has one of the right kind, the counts into the open string are within
 * its parts, and no count or limit is negative. Invariants of a parser that has not failed,
 * so checking them costs a few comparisons per call and changes nothing for valid input. */
static int
check_state(Core *self)
{
    int state = self->state;
    if (state < 0 || state > ST_FINISHED) {
        return corrupted_int("_state", state, "not a parser state (0 to 11)");
    }
    Py_ssize_t depth = PyList_GET_SIZE(self->containers);
    PyObject *inner = depth ? PyList_GET_ITEM(self->containers, depth - 1) : NULL;
    switch (state) {
    case ST_VALUE:
        if (inner == NULL || PyDict_CheckExact(inner) || PyList_CheckExact(inner)) {
            break;
        }
        return corrupted("_state 0 (a value) inside something neither a dict nor a list");
    case ST_ARRAY_FIRST:
        if (inner == NULL || !PyList_CheckExact(inner)) {
            return corrupted("_state 1 (an array's first value) without an open list");
        }
        break;
    case ST_AFTER_VALUE:
        if (inner == NULL || !(PyDict_CheckExact(inner) || PyList_CheckExact(inner))) {
            return corrupted("_state 2 (after a value) without an open dict or list");
        }
        break;
    case ST_OBJECT_FIRST:
    case ST_KEY:
    case ST_COLON:
    case ST_KEY_STRING:
        if (inner == NULL || !PyDict_CheckExact(inner)) {
            return corrupted_int("_state", state, "a key state without an open dict");
        }
        break;
    case ST_DONE:
    case ST_SKIP:
        if (depth) {
            return corrupted_int("_state", state, "a state between documents, with open containers");
        }
        break;
    default: /* ST_STRING (any depth), ST_ERROR, ST_FINISHED */
        break;
    }
    Py_ssize_t parts = PyList_GET_SIZE(self->str_parts);
    if (self->str_emitted < 0 || self->str_emitted > parts) {
        return corrupted_int("_str_emitted", self->str_emitted,
                             "outside 0 to the number of parts in _str_parts");
    }
    if (self->str_joined < 0 || self->str_joined > parts) {
        return corrupted_int("_str_joined", self->str_joined,
                             "outside 0 to the number of parts in _str_parts");
    }
    if (self->str_len < 0) {
        return corrupted_int("_str_len", self->str_len, "negative");
    }
    if (self->pos_bytes < 0) {
        return corrupted_int("_pos_bytes", self->pos_bytes, "negative");
    }
    if (self->pos_line < 1) {
        return corrupted_int("_pos_line", self->pos_line, "below 1");
    }
    if (self->pos_column < 1) {
        return corrupted_int("_pos_column", self->pos_column, "below 1");
    }
    if (self->max_depth < 1) {
        return corrupted_int("_max_depth", self->max_depth, "below 1");
    }
    if (self->max_number_length < 1) {
        return corrupted_int("_max_number_length", self->max_number_length, "below 1");
    }
    if (self->max_string < 0) {
        return corrupted_int("_max_string", self->max_string, "negative");
    }
    if (self->max_size_bytes < 0) {
        return corrupted_int("_max_size_bytes", self->max_size_bytes, "negative");
    }
    return 0;
}

/* A finished or failed parser refuses input through the Python `_refuse` (which raises). */
static PyObject *
refuse(Core *self)
{
    PyObject *r = PyObject_CallMethodNoArgs((PyObject *)self, s_refuse);
    Py_XDECREF(r);
    if (!PyErr_Occurred()) {
        PyErr_SetString(PyExc_SystemError, "_refuse() returned instead of raising");
    }
    return NULL;
}

static PyObject *
Core_consume(Core *self, PyObject *text)
{
    if (self->state >= ST_ERROR && self->state <= ST_FINISHED) {
        return refuse(self);
    }
    if (check_fields(self) < 0 || check_state(self) < 0) {
        return NULL;
    }
    if (!PyUnicode_CheckExact(text)) {
        PyErr_SetString(PyExc_TypeError, "_consume() takes str");
        return NULL;
    }
    return consume(self, text);
}

static PyObject *
Core_feed(Core *self, PyObject *data)
{
    if (self->state >= ST_ERROR && self->state <= ST_FINISHED) {
        return refuse(self);
    }
    PyObject *text;
    if (PyUnicode_CheckExact(data) && self->decoder == Py_None) {
        Py_INCREF(data);
        text = data;
    }
    else {
        /* Bytes, str subclasses, text after bytes, wrong types: the shared Python path. */
        text = PyObject_CallMethodOneArg((PyObject *)self, s_prepare_text, data);
        if (text == NULL) {
            return NULL;
        }
        if (!PyUnicode_CheckExact(text)) {
            Py_DECREF(text);
            PyErr_SetString(PyExc_SystemError, "_prepare_text() must return str");
            return NULL;
        }
    }
    /* Checked after _prepare_text, the last Python code before the scan. */
    if (check_fields(self) < 0 || check_state(self) < 0) {
        Py_DECREF(text);
        return NULL;
    }
    if (!self->started) {
        if (PyUnicode_GET_LENGTH(text) == 0) {
            Py_DECREF(text);
            return PyList_New(0);
        }
        self->started = 1;
        if (PyUnicode_READ_CHAR(text, 0) == 0xFEFF) {
            /* RFC 8259 section 8.1: a parser may ignore a byte order mark. */
            PyObject *rest = PyUnicode_Substring(text, 1, PyUnicode_GET_LENGTH(text));
            Py_DECREF(text);
            if (rest == NULL) {
                return NULL;
            }
            text = rest;
            if (self->pos_bytes > PY_SSIZE_T_MAX - 3) {
                Py_DECREF(text);
                corrupted_int("_pos_bytes", self->pos_bytes, "too large to count more input");
                return NULL;
            }
            self->pos_bytes += 3;
        }
    }
    PyObject *out = consume(self, text);
    Py_DECREF(text);
    return out;
}

static PyObject *
Core_get_value(Core *self, void *closure)
{
    (void)closure;
    if (check_fields(self) < 0) {
        return NULL;
    }
    if (self->state == ST_STRING && self->str_joined != PyList_GET_SIZE(self->str_parts)) {
        if (join_open_string(self) < 0) {
            return NULL;
        }
    }
    Py_INCREF(self->root);
    return self->root;
}

/* ------------------------------------------------------------------ type */

static PyObject *
Core_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    (void)args;
    (void)kwds;
    Core *self = (Core *)type->tp_alloc(type, 0);
    if (self == NULL) {
        return NULL;
    }
    /* Valid defaults; the Python constructor sets the real ones. */
    self->containers = PyList_New(0);
    self->paths = PyList_New(0);
    self->key_parts = PyList_New(0);
    self->documents = PyList_New(0);
    self->str_parts = PyList_New(0);
    if (!self->containers || !self->paths || !self->key_parts || !self->documents ||
        !self->str_parts) {
        Py_DECREF(self);
        return NULL;
    }
    Py_INCREF(s_empty);
    self->key = s_empty;
    Py_INCREF(s_empty);
    self->pending = s_empty;
    Py_INCREF(empty_tuple);
    self->str_path = empty_tuple;
    self->root = Py_NewRef(Py_None);
    self->str_container = Py_NewRef(Py_None);
    self->str_slot = Py_NewRef(Py_None);
    self->decoder = Py_NewRef(Py_None);
    self->error = Py_NewRef(Py_None);
    self->max_size = Py_NewRef(Py_None);
    self->max_string_length = Py_NewRef(Py_None);
    self->pos_line = self->pos_column = 1;
    self->max_depth = self->max_number_length = 1;
    self->max_string = self->max_size_bytes = PY_SSIZE_T_MAX;
    self->events = 1;
    return (PyObject *)self;
}

static int
Core_traverse(Core *self, visitproc visit, void *arg)
{
#define VISIT(f) Py_VISIT(self->f);
    CORE_OBJECT_FIELDS(VISIT)
#undef VISIT
    return 0;
}

static int
Core_clear(Core *self)
{
#define CLEAR(f) Py_CLEAR(self->f);
    CORE_OBJECT_FIELDS(CLEAR)
#undef CLEAR
    return 0;
}

static void
Core_dealloc(Core *self)
{
    /* Subclasses are heap types over this static type: their dealloc drops the type. */
    PyObject_GC_UnTrack(self);
    Core_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* The int and bool fields are members: their descriptors refuse other types and deletion,
 * and check_state() checks their values before each scan. */
static PyMemberDef Core_members[] = {
    {"_state", T_INT, offsetof(Core, state), 0, NULL},
    {"_lenient", T_BOOL, offsetof(Core, lenient), 0, NULL},
    {"_multiple", T_BOOL, offsetof(Core, multiple), 0, NULL},
    {"_root_started", T_BOOL, offsetof(Core, root_started), 0, NULL},
    {"_started", T_BOOL, offsetof(Core, started), 0, NULL},
    {"_events", T_BOOL, offsetof(Core, events), 0, NULL},
    {"_str_len", T_PYSSIZET, offsetof(Core, str_len), 0, NULL},
    {"_str_joined", T_PYSSIZET, offsetof(Core, str_joined), 0, NULL},
    {"_str_emitted", T_PYSSIZET, offsetof(Core, str_emitted), 0, NULL},
    {"_pos_bytes", T_PYSSIZET, offsetof(Core, pos_bytes), 0, NULL},
    {"_pos_line", T_PYSSIZET, offsetof(Core, pos_line), 0, NULL},
    {"_pos_column", T_PYSSIZET, offsetof(Core, pos_column), 0, NULL},
    {"_max_depth", T_PYSSIZET, offsetof(Core, max_depth), 0, NULL},
    {"_max_number_length", T_PYSSIZET, offsetof(Core, max_number_length), 0, NULL},
    {"_max_string", T_PYSSIZET, offsetof(Core, max_string), 0, NULL},
    {"_max_size_bytes", T_PYSSIZET, offsetof(Core, max_size_bytes), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

/* The object fields are properties whose setter checks the type the C code (or the Python
 * code it calls) relies on and refuses deletion, so they never hold NULL or a wrong type
 * (check_fields() checks again, as a last line: tp_clear empties them). What they hold
 * inside (a list's items) can still change, and is checked where it is used. */
typedef struct {
    const char *name;
    Py_ssize_t offset;
    char kind; /* 'l' exact list, 's' exact str, 't' exact tuple, 'd' decoder, 'a' anything */
    const char *what;
} ObjectField;

static PyObject *
field_get(Core *self, void *closure)
{
    const ObjectField *field = (const ObjectField *)closure;
    PyObject *value = *(PyObject **)((char *)self + field->offset);
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "'JSONParser' object has no attribute '%s'",
                     field->name);
        return NULL;
    }
    return Py_NewRef(value);
}

static int
field_set(Core *self, PyObject *value, void *closure)
{
    const ObjectField *field = (const ObjectField *)closure;
    if (value == NULL) {
        PyErr_Format(PyExc_TypeError, "JSONParser's private attribute %s cannot be deleted",
                     field->name);
        return -1;
    }
    int ok;
    switch (field->kind) {
    case 'l': ok = PyList_CheckExact(value); break;
    case 's': ok = PyUnicode_CheckExact(value); break;
    case 't': ok = PyTuple_CheckExact(value); break;
    case 'd':
        ok = value == Py_None ||
             (incremental_decoder != NULL &&
              PyObject_TypeCheck(value, (PyTypeObject *)incremental_decoder));
        break;
    default: ok = 1; break;
    }
    if (!ok) {
        PyErr_Format(PyExc_TypeError, "JSONParser's private attribute %s must be %s, not %s",
                     field->name, field->what, Py_TYPE(value)->tp_name);
        return -1;
    }
    Py_INCREF(value);
    Py_XSETREF(*(PyObject **)((char *)self + field->offset), value);
    return 0;
}

#define FIELD(name, member, kind, what) {name, offsetof(Core, member), kind, what}
static ObjectField object_fields[] = {
    FIELD("_containers", containers, 'l', "a list"),
    FIELD("_paths", paths, 'l', "a list"),
    FIELD("_key", key, 's', "a str"),
    FIELD("_key_parts", key_parts, 'l', "a list"),
    FIELD("_pending", pending, 's', "a str"),
    FIELD("_root", root, 'a', ""),
    FIELD("_documents", documents, 'l', "a list"),
    FIELD("_str_parts", str_parts, 'l', "a list"),
    FIELD("_str_container", str_container, 'a', ""),
    FIELD("_str_slot", str_slot, 'a', ""),
    FIELD("_str_path", str_path, 't', "a tuple"),
    FIELD("_decoder", decoder, 'd', "None or a codecs.IncrementalDecoder"),
    FIELD("_error", error, 'a', ""),
    FIELD("_max_size", max_size, 'a', ""),
    FIELD("_max_string_length", max_string_length, 'a', ""),
};
#undef FIELD
#define N_OBJECT_FIELDS ((int)(sizeof(object_fields) / sizeof(object_fields[0])))

static PyMethodDef Core_methods[] = {
    {"feed", (PyCFunction)Core_feed, METH_O,
     "feed(data, /)\n--\n\nConsume the next piece of the document; return its events."},
    {"_consume", (PyCFunction)Core_consume, METH_O, "Scan text after the held-back token."},
    {NULL, NULL, 0, NULL},
};

/* `value`, then one entry per object field (filled in by PyInit__speedups), then the end. */
static PyGetSetDef Core_getset[1 + N_OBJECT_FIELDS + 1] = {
    {"value", (getter)Core_get_value, NULL,
     "The partial value so far (None before anything is visible); a live view.", NULL},
};

static PyTypeObject CoreType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamdantic._speedups.ParserCore",
    .tp_basicsize = sizeof(Core),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The compiled state machine under JSONParser (see _parser.py).",
    .tp_new = Core_new,
    .tp_dealloc = (destructor)Core_dealloc,
    .tp_traverse = (traverseproc)Core_traverse,
    .tp_clear = (inquiry)Core_clear,
    .tp_members = Core_members,
    .tp_methods = Core_methods,
    .tp_getset = Core_getset,
};

/* ------------------------------------------------------------------ iterator shell */

/* The base of `_iterators.GeneratorIterator` (collect's and collect_batch's iterators): its
   tp_iternext hands the generator's next item on in C, so a loop over a shell costs what a
   loop over the bare generator costs, not a Python-level __next__ call per item. The
   generator is the `_generator` slot, which the Python subclass sets. */
typedef struct {
    PyObject_HEAD
    PyObject *generator;
} Shell;

static int
Shell_traverse(Shell *self, visitproc visit, void *arg)
{
    Py_VISIT(self->generator);
    return 0;
}

static int
Shell_clear(Shell *self)
{
    Py_CLEAR(self->generator);
    return 0;
}

static void
Shell_dealloc(Shell *self)
{
    PyObject_GC_UnTrack(self);
    Shell_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
Shell_iternext(Shell *self)
{
    PyObject *generator = self->generator;
    if (generator == NULL) {
        PyErr_SetString(PyExc_AttributeError, "the iterator has no _generator");
        return NULL;
    }
    iternextfunc next = Py_TYPE(generator)->tp_iternext;
    if (next == NULL) {
        PyErr_Format(PyExc_TypeError, "'%.200s' object is not an iterator",
                     Py_TYPE(generator)->tp_name);
        return NULL;
    }
    return next(generator); /* NULL without an exception set: exhausted, as for any iterator */
}

static PyMemberDef Shell_members[] = {
    {"_generator", T_OBJECT_EX, offsetof(Shell, generator), 0, "The generator iterated."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject ShellType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamdantic._speedups.GeneratorShell",
    .tp_basicsize = sizeof(Shell),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "An iterator over the generator in its _generator slot (see _iterators.py).",
    .tp_new = PyType_GenericNew,
    .tp_dealloc = (destructor)Shell_dealloc,
    .tp_traverse = (traverseproc)Shell_traverse,
    .tp_clear = (inquiry)Shell_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Shell_iternext,
    .tp_members = Shell_members,
};

/* ------------------------------------------------------------------ module */

/* The offset of slot `name` of `cls`, from its member descriptor. */
static int
slot_offset(PyTypeObject *cls, const char *name, Py_ssize_t *offset)
{
    PyObject *descr = PyDict_GetItemString(cls->tp_dict, name); /* borrowed */
    if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", cls->tp_name, name);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    if (member->type != T_OBJECT_EX || (member->flags & READONLY)) {
        PyErr_Format(PyExc_TypeError, "%s.%s is not a writable object slot", cls->tp_name,
                     name);
        return -1;
    }
    *offset = member->offset;
    return 0;
}

static int
event_class(PyObject *obj, const char *a, const char *b, EventClass *out)
{
    if (!PyType_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "setup() takes the event classes");
        return -1;
    }
    PyTypeObject *cls = (PyTypeObject *)obj;
    if (slot_offset(cls, a, &out->off0) < 0 || slot_offset(cls, b, &out->off1) < 0) {
        return -1;
    }
    Py_INCREF(cls);
    Py_XSETREF(out->type, cls);
    return 0;
}

static PyObject *
setup(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *started, *appended, *completed, *document, *limit;
    if (!PyArg_ParseTuple(args, "OOOOO:setup", &started, &appended, &completed, &document,
                          &limit)) {
        return NULL;
    }
    if (event_class(started, "path", "kind", &ev_started) < 0 ||
        event_class(appended, "path", "text", &ev_appended) < 0 ||
        event_class(completed, "path", "value", &ev_completed) < 0 ||
        event_class(document, "value", "index", &ev_document) < 0) {
        return NULL;
    }
    Py_INCREF(limit);
    Py_XSETREF(limit_error, limit);
    ready = 1;
    Py_RETURN_NONE;
}


/* ---- prescan: the limits pre-scan of batch collection (the twin of _limits._py_prescan) ---- */

enum { PS_BETWEEN, PS_STRING, PS_ESCAPE, PS_UHEX, PS_BARE };
enum { PS_DEPTH = 1, PS_STRING_LIMIT = 2, PS_NUMBER = 3 };

static int
ps_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* What a byte does between tokens. */
enum { PS_C_OTHER, PS_C_SKIP, PS_C_NEWLINE, PS_C_OPEN, PS_C_CLOSE, PS_C_QUOTE };
static unsigned char ps_class[256];

/* Bytes that end a bare token: whitespace, structural characters and the quote. */
static unsigned char ps_delim[256];
/* Bytes that end a run of plain string content (in JSON Lines, CR and LF too). */
static unsigned char ps_string_stop[256], ps_string_stop_lines[256];

static PyObject *
prescan(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 8 || !PyList_Check(args[0]) || PyList_GET_SIZE(args[0]) != 7) {
        PyErr_SetString(PyExc_TypeError,
                        "prescan(state, data, base, step, max_depth, max_string, max_number, "
                        "jsonl) with a state list of 7 ints");
        return NULL;
    }
    PyObject *state = args[0];
    long long st[7];
    for (int k = 0; k < 7; k++) {
        st[k] = PyLong_AsLongLong(PyList_GET_ITEM(state, k));
        if (st[k] == -1 && PyErr_Occurred()) return NULL;
    }
    long long base = PyLong_AsLongLong(args[2]);
    long long step = PyLong_AsLongLong(args[3]);
    long long max_depth = PyLong_AsLongLong(args[4]);
    long long max_string = PyLong_AsLongLong(args[5]);
    long long max_number = PyLong_AsLongLong(args[6]);
    if (PyErr_Occurred()) return NULL;
    int jsonl = PyObject_IsTrue(args[7]);
    if (jsonl < 0) return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(args[1], &view, PyBUF_SIMPLE) < 0) return NULL;
    const unsigned char *s = (const unsigned char *)view.buf;
    long long n = (long long)view.len;
    long long mode = st[0], depth = st[1], count = st[2], start = st[3];
    long long u_left = st[4], u_value = st[5], prev_high = st[6];
    PyObject *cuts = PyList_New(0);
    if (cuts == NULL) {
        PyBuffer_Release(&view);
        return NULL;
    }
    long long last_cut = 0, kind = 0, at = 0, i = 0;
    long long boundary = step ? (base / step + 1) * step - base : n + 1;
    for (;;) {
        long long end = boundary < n ? boundary : n;
        while (i < end) {
            unsigned char c = s[i];
            switch (mode) {
            case PS_BETWEEN:
                switch (ps_class[c]) {
                case PS_C_SKIP:
                    i++;
                    while (i < end && ps_class[s[i]] == PS_C_SKIP) i++;
                    break;
                case PS_C_NEWLINE:
                    if (jsonl) depth = 0;
                    i++;
                    break;
                case PS_C_OPEN:
                    if (depth >= max_depth) {
                        kind = PS_DEPTH;
                        at = i;
                        goto stop;
                    }
                    depth++;
                    i++;
                    break;
                case PS_C_CLOSE:
                    if (depth) depth--;
                    i++;
                    break;
                case PS_C_QUOTE:
                    mode = PS_STRING;
                    start = base + i;
                    count = 0;
                    prev_high = 0;
                    i++;
                    break;
                default:
                    mode = PS_BARE;
                    start = base + i;
                    count = 0;
                }
                break;
            case PS_STRING: {
                /* A run of plain string bytes: count its characters, then check the limit
                   once (and find the crossing byte only when it is exceeded). */
                const unsigned char *table = jsonl ? ps_string_stop_lines : ps_string_stop;
                long long run = i, chars = 0;
                while (i < end && !table[s[i]]) {
                    chars += (s[i] & 0xC0) != 0x80;
                    i++;
                }
                if (chars) {
                    if (count + chars > max_string) {
                        for (at = run;; at++) {
                            if ((s[at] & 0xC0) != 0x80 && ++count > max_string) break;
                        }
                        kind = PS_STRING_LIMIT;
                        goto stop;
                    }
                    count += chars;
                    prev_high = 0;
                }
                if (i >= end) break;
                c = s[i];
                i++;
                if (c == '"') {
                    mode = PS_BETWEEN;
                } else if (c == '\\') {
                    mode = PS_ESCAPE;
                } else {
                    mode = PS_BETWEEN;
                    depth = 0;
                }
                break;
            }
            case PS_ESCAPE:
                if (jsonl && (c == '\n' || c == '\r')) {
                    mode = PS_BETWEEN;
                    depth = 0;
                    i++;
                } else if (c == 'u') {
                    mode = PS_UHEX;
                    u_left = 4;
                    u_value = 0;
                    i++;
                } else {
                    if (count >= max_string) {
                        kind = PS_STRING_LIMIT;
                        at = i;
                        goto stop;
                    }
                    count++;
                    prev_high = 0;
                    mode = PS_STRING;
                    i++;
                }
                break;
            case PS_UHEX: {
                int digit = ps_hex(c);
                if (digit < 0) {
                    if (count >= max_string) {
                        kind = PS_STRING_LIMIT;
                        at = i;
                        goto stop;
                    }
                    count++;
                    prev_high = 0;
                    mode = PS_STRING;
                    break; /* read the byte again as string content */
                }
                u_value = u_value * 16 + digit;
                if (--u_left == 0) {
                    int low = u_value >= 0xDC00 && u_value < 0xE000;
                    if (!(low && prev_high)) {
                        if (count >= max_string) {
                            kind = PS_STRING_LIMIT;
                            at = i;
                            goto stop;
                        }
                        count++;
                    }
                    prev_high = u_value >= 0xD800 && u_value < 0xDC00;
                    mode = PS_STRING;
                }
                i++;
                break;
            }
            default: /* PS_BARE */
                while (i < end && !ps_delim[s[i]]) {
                    if (count >= max_number) {
                        kind = PS_NUMBER;
                        at = i;
                        count++;
                        goto stop;
                    }
                    count++;
                    i++;
                }
                if (i < end) mode = PS_BETWEEN;
                break;
            }
        }
        if (boundary > n) break;
        {
            long long cut = mode == PS_BETWEEN ? boundary : start - base;
            if (cut > last_cut) {
                PyObject *item = PyLong_FromLongLong(cut);
                if (item == NULL || PyList_Append(cuts, item) < 0) {
                    Py_XDECREF(item);
                    Py_DECREF(cuts);
                    PyBuffer_Release(&view);
                    return NULL;
                }
                Py_DECREF(item);
                last_cut = cut;
            }
        }
        boundary += step;
    }
stop:
    PyBuffer_Release(&view);
    st[0] = mode;
    st[1] = depth;
    st[2] = count;
    st[3] = start;
    st[4] = u_left;
    st[5] = u_value;
    st[6] = prev_high;
    for (int k = 0; k < 7; k++) {
        PyObject *v = PyLong_FromLongLong(st[k]);
        if (v == NULL) {
            Py_DECREF(cuts);
            return NULL;
        }
        if (PyList_SetItem(state, k, v) < 0) {
            Py_DECREF(cuts);
            return NULL;
        }
    }
    long long tail = mode == PS_BETWEEN ? n : start - base;
    return Py_BuildValue("(NLLL)", cuts, tail, kind, at);
}

/* ---- snapshots: path copying of partial views (the twin of _validation._py_own_path) ----
 *
 * `own_path(frame, epoch, validator)` is the slow branch of `PartialValidator._own`: the
 * containers on the path from `frame` up to the first frame already changeable in `epoch`
 * are copied once, top-down, and each copy replaces the published version in its parent
 * (or becomes the validator's `_partial`). Frames are `_validation._Frame` instances and
 * partial models are pydantic models; both are read and written through the slots their
 * member descriptors name, registered once by `setup_snapshots`. A model copy copies the
 * instance dict, `__pydantic_fields_set__` and the field states (`__pydantic_private__`)
 * without pydantic's `__copy__`; a list is copied, or its previous version brought up to
 * date at its tail when only the frame holds it (the reference count is exact here: this is
 * CPython, and with the GIL; the free-threaded build always copies).
 */

static int snap_ready = 0;
static PyTypeObject *frame_type, *model_type;
static Py_ssize_t fr_obj, fr_parent, fr_slot, fr_attached, fr_union, fr_epoch, fr_spare;
static Py_ssize_t bm_fields_set, bm_extra, bm_private;
static PyObject *s_states, *s_partial;

#define SLOT(o, off) (*(PyObject **)((char *)(o) + (off)))

#ifdef Py_GIL_DISABLED
#define SNAP_RECYCLE 0
#else
#define SNAP_RECYCLE 1
#endif

static PyObject *
setup_snapshots(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *frame, *model;
    if (!PyArg_ParseTuple(args, "O!O!:setup_snapshots", &PyType_Type, &frame, &PyType_Type,
                          &model)) {
        return NULL;
    }
    PyTypeObject *f = (PyTypeObject *)frame, *m = (PyTypeObject *)model;
    if (slot_offset(f, "obj", &fr_obj) < 0 || slot_offset(f, "parent", &fr_parent) < 0 ||
        slot_offset(f, "slot", &fr_slot) < 0 || slot_offset(f, "attached", &fr_attached) < 0 ||
        slot_offset(f, "union", &fr_union) < 0 || slot_offset(f, "epoch", &fr_epoch) < 0 ||
        slot_offset(f, "spare", &fr_spare) < 0 ||
        slot_offset(m, "__pydantic_fields_set__", &bm_fields_set) < 0 ||
        slot_offset(m, "__pydantic_extra__", &bm_extra) < 0 ||
        slot_offset(m, "__pydantic_private__", &bm_private) < 0) {
        return NULL;
    }
    Py_INCREF(f);
    Py_XSETREF(frame_type, f);
    Py_INCREF(m);
    Py_XSETREF(model_type, m);
    snap_ready = 1;
    Py_RETURN_NONE;
}

/* A slot that must be set (the Python twin would raise AttributeError). */
static PyObject *
slot_get(PyObject *obj, Py_ssize_t offset, const char *name)
{
    PyObject *value = SLOT(obj, offset);
    if (value == NULL) {
        PyErr_Format(PyExc_AttributeError, "'%.100s' object has no attribute '%s'",
                     Py_TYPE(obj)->tp_name, name);
    }
    return value;
}

/* Whether `obj` may have weak references (then it is never recycled: a weakref is not
 * counted in the reference count, and would see the change). */
static int
weakly_referenced(PyObject *obj)
{
    Py_ssize_t offset = Py_TYPE(obj)->tp_weaklistoffset;
    if (offset == 0) {
        return 0;
    }
    return *(PyObject **)((char *)obj + offset) != NULL;
}

/* Make the dict `dst` equal to `src`, keys in the same order. When `dst` has the keys of
 * `src` in the same order (or a prefix of them), the values that differ are stored in
 * place and the missing keys appended; otherwise `dst` is rebuilt. */
static int
sync_dict(PyObject *dst, PyObject *src)
{
    Py_ssize_t i = 0, j = 0;
    PyObject *key, *value, *src_key, *src_value;
    while (PyDict_Next(src, &j, &src_key, &src_value)) {
        if (!PyDict_Next(dst, &i, &key, &value)) {
            /* `dst` is a prefix: append the rest (no iteration over `dst` follows). */
            if (PyDict_SetItem(dst, src_key, src_value) < 0) {
                return -1;
            }
            while (PyDict_Next(src, &j, &src_key, &src_value)) {
                if (PyDict_SetItem(dst, src_key, src_value) < 0) {
                    return -1;
                }
            }
            break;
        }
        if (key != src_key) {
            PyDict_Clear(dst);
            return PyDict_Update(dst, src);
        }
        if (value != src_value) {
            /* The same key: the value is replaced, the dict is not resized, so the position
             * `i` stays valid. */
            if (PyDict_SetItem(dst, key, src_value) < 0) {
                return -1;
            }
        }
    }
    if (PyDict_GET_SIZE(dst) != PyDict_GET_SIZE(src)) { /* `dst` had keys `src` lacks */
        PyDict_Clear(dst);
        return PyDict_Update(dst, src);
    }
    return 0;
}

/* `spare`, an old version of a partial model that only the frame holds (it, its instance
 * dict, its fields set, its private dict and its field states are each referenced once),
 * brought up to date with `obj`: the same field values, fields set and field states. 1 if
 * recycled, 0 if it cannot be (nothing changed), -1 on error. */
static int
recycle_model(PyObject *spare, PyObject *obj)
{
    if (!SNAP_RECYCLE || Py_TYPE(spare) != Py_TYPE(obj) || Py_REFCNT(spare) != 1 ||
        weakly_referenced(spare)) {
        return 0;
    }
    PyObject *fields_set = SLOT(spare, bm_fields_set), *private = SLOT(spare, bm_private);
    PyObject *new_set = SLOT(obj, bm_fields_set), *new_private = SLOT(obj, bm_private);
    if (fields_set == NULL || private == NULL || new_set == NULL || new_private == NULL ||
        !PySet_CheckExact(fields_set) || !PySet_CheckExact(new_set) ||
        !PyDict_CheckExact(private) || !PyDict_CheckExact(new_private) ||
        Py_REFCNT(fields_set) != 1 || Py_REFCNT(private) != 1 || PyDict_GET_SIZE(private) != 1 ||
        SLOT(spare, bm_extra) != Py_None) {
        return 0;
    }
    PyObject *states = PyDict_GetItemWithError(private, s_states); /* borrowed */
    PyObject *new_states = PyDict_GetItemWithError(new_private, s_states);
    if (states == NULL || new_states == NULL) {
        return PyErr_Occurred() ? -1 : 0;
    }
    if (!PyDict_CheckExact(states) || !PyDict_CheckExact(new_states) || Py_REFCNT(states) != 1) {
        return 0;
    }
    PyObject *dict = PyObject_GenericGetDict(spare, NULL);
    if (dict == NULL) {
        return -1;
    }
    PyObject *new_dict = PyObject_GenericGetDict(obj, NULL);
    if (new_dict == NULL) {
        Py_DECREF(dict);
        return -1;
    }
    /* Field values: the two dicts have the same keys in the same order (every field, from
     * the node's defaults), so the values are stored in place. */
    int rc = 0;
    if (Py_REFCNT(dict) == 2 && PyDict_CheckExact(dict) && PyDict_CheckExact(new_dict) &&
        PyDict_GET_SIZE(dict) == PyDict_GET_SIZE(new_dict)) {
        rc = sync_dict(dict, new_dict) < 0 ? -1 : 1;
    }
    Py_DECREF(dict);
    Py_DECREF(new_dict);
    if (rc != 1) {
        return rc;
    }
    /* Fields set: it only grows, so the same size means the same members. */
    if (PySet_GET_SIZE(fields_set) != PySet_GET_SIZE(new_set)) {
        if (PySet_Clear(fields_set) < 0) {
            return -1;
        }
        Py_ssize_t pos = 0;
        PyObject *item;
        Py_hash_t hash;
        while (_PySet_NextEntry(new_set, &pos, &item, &hash)) {
            if (PySet_Add(fields_set, item) < 0) {
                return -1;
            }
        }
    }
    /* Field states: keys are only added, in the same order, so the common case is a scan
     * that finds them equal; anything else is rebuilt. */
    return sync_dict(states, new_states) < 0 ? -1 : 1;
}

static PyObject *fresh_model(PyObject *obj);

/* A copy of the published partial model `obj` to change in place (the twin of
 * _validation._copy_model): the frame's previous version recycled when only the frame
 * holds it, else a shallow copy made without pydantic's __copy__. */
static PyObject *
copy_model(PyObject *frame, PyObject *obj)
{
    if (!PyObject_TypeCheck(obj, model_type)) {
        PyErr_Format(PyExc_TypeError, "expected a partial model, got %.100s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyObject *spare = slot_get(frame, fr_spare, "spare");
    if (spare == NULL) {
        return NULL;
    }
    SLOT(frame, fr_spare) = Py_NewRef(obj); /* the slot's reference to `spare` is ours now */
    if (spare != Py_None) {
        int recycled = recycle_model(spare, obj);
        if (recycled != 0) {
            if (recycled < 0) {
                Py_CLEAR(spare);
            }
            return spare;
        }
    }
    /* `spare` is released after the copy is made, as the Python twin's local is: a copy is
     * never at the address of the version it did not recycle. */
    PyObject *copy = fresh_model(obj);
    Py_DECREF(spare);
    return copy;
}

/* A shallow copy of a partial model: its field values shared, its fields set and field
 * states copied, made without pydantic's __copy__. */
static PyObject *
fresh_model(PyObject *obj)
{
    PyObject *fields_set = slot_get(obj, bm_fields_set, "__pydantic_fields_set__");
    PyObject *private = slot_get(obj, bm_private, "__pydantic_private__");
    if (fields_set == NULL || private == NULL) {
        return NULL;
    }
    PyObject *states = PyObject_GetItem(private, s_states);
    if (states == NULL) {
        return NULL;
    }
    PyObject *dict = NULL, *copy = NULL, *new_dict = NULL, *new_set = NULL;
    PyObject *new_states = NULL, *new_private = NULL;
    PyTypeObject *type = Py_TYPE(obj);
    if ((dict = PyObject_GenericGetDict(obj, NULL)) == NULL ||
        (new_dict = PyDict_Copy(dict)) == NULL || (new_set = PySet_New(fields_set)) == NULL ||
        (new_states = PyDict_Copy(states)) == NULL || (new_private = PyDict_New()) == NULL ||
        PyDict_SetItem(new_private, s_states, new_states) < 0 ||
        (copy = type->tp_new(type, empty_tuple, NULL)) == NULL ||
        PyObject_GenericSetDict(copy, new_dict, NULL) < 0) {
        goto error;
    }
    Py_XSETREF(SLOT(copy, bm_fields_set), new_set);
    Py_XSETREF(SLOT(copy, bm_extra), Py_NewRef(Py_None));
    Py_XSETREF(SLOT(copy, bm_private), new_private);
    Py_DECREF(states);
    Py_DECREF(dict);
    Py_DECREF(new_dict);
    Py_DECREF(new_states);
    return copy;
error:
    Py_DECREF(states);
    Py_XDECREF(dict);
    Py_XDECREF(new_dict);
    Py_XDECREF(new_set);
    Py_XDECREF(new_states);
    Py_XDECREF(new_private);
    Py_XDECREF(copy);
    return NULL;
}

/* A list equal to the published `obj`, to change in place (the twin of
 * _validation._copy_list): the frame's previous version when only the frame holds it. */
static PyObject *
copy_list(PyObject *frame, PyObject *obj)
{
    PyObject *spare = slot_get(frame, fr_spare, "spare");
    if (spare == NULL) {
        return NULL;
    }
    SLOT(frame, fr_spare) = Py_NewRef(obj); /* the slot's reference to `spare` is ours now */
    Py_ssize_t n = PyList_GET_SIZE(obj);
    if (SNAP_RECYCLE && PyList_CheckExact(spare) && Py_REFCNT(spare) == 1 &&
        PyList_GET_SIZE(spare) <= n) {
        Py_ssize_t start = PyList_GET_SIZE(spare) ? PyList_GET_SIZE(spare) - 1 : 0;
        for (Py_ssize_t i = start; i < PyList_GET_SIZE(obj); i++) { /* (re-read: see below) */
            PyObject *item = PyList_GET_ITEM(obj, i);
            if (i < PyList_GET_SIZE(spare)) {
                if (PyList_GET_ITEM(spare, i) != item) {
                    /* Stores, then drops the old item, whose release may run a weakref
                     * callback: hence the sizes re-read on every step. */
                    PyList_SetItem(spare, i, Py_NewRef(item));
                }
            }
            else if (PyList_Append(spare, item) < 0) {
                Py_DECREF(spare);
                return NULL;
            }
        }
        return spare;
    }
    PyObject *copy = PyList_GetSlice(obj, 0, n);
    Py_DECREF(spare); /* after the copy, as in copy_model */
    return copy;
}

static PyObject *
own_path(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "own_path() takes (frame, epoch, validator)");
        return NULL;
    }
    if (!snap_ready) {
        PyErr_SetString(PyExc_RuntimeError, "streamdantic._speedups.setup_snapshots() not called");
        return NULL;
    }
    PyObject *frame = args[0], *epoch = args[1], *validator = args[2];
    Py_ssize_t now = PyLong_AsSsize_t(epoch);
    if (now == -1 && PyErr_Occurred()) {
        return NULL;
    }
    /* The frames from `frame` up to the first one changeable in this epoch. They are kept
     * alive by `frame` (through `parent`, which is never written here). */
    PyObject *fixed[64];
    PyObject **chain = fixed;
    Py_ssize_t n = 0, cap = 64;
    int visible = 1;
    PyObject *f = frame;
    PyObject *result = NULL;
    while (f != Py_None) {
        if (!PyObject_TypeCheck(f, frame_type)) {
            PyErr_Format(PyExc_TypeError, "expected a frame, got %.100s", Py_TYPE(f)->tp_name);
            goto done;
        }
        PyObject *e = slot_get(f, fr_epoch, "epoch");
        if (e == NULL) {
            goto done;
        }
        if (e != epoch) {
            Py_ssize_t value = PyLong_AsSsize_t(e);
            if (value == -1 && PyErr_Occurred()) {
                goto done;
            }
            if (value == now) {
                break;
            }
        }
        else {
            break;
        }
        if (n == cap) {
            PyObject **grown = PyMem_Malloc(sizeof(PyObject *) * (size_t)cap * 2);
            if (grown == NULL) {
                PyErr_NoMemory();
                goto done;
            }
            memcpy(grown, chain, sizeof(PyObject *) * (size_t)n);
            if (chain != fixed) {
                PyMem_Free(chain);
            }
            chain = grown;
            cap *= 2;
        }
        chain[n++] = f;
        PyObject *obj = slot_get(f, fr_obj, "obj");
        PyObject *attached = slot_get(f, fr_attached, "attached");
        PyObject *in_union = slot_get(f, fr_union, "union");
        if (obj == NULL || attached == NULL || in_union == NULL) {
            goto done;
        }
        int shown = PyObject_IsTrue(attached);
        if (shown < 0) {
            goto done;
        }
        if (obj == Py_None || !shown || in_union != Py_None) {
            visible = 0; /* not in the root's view (held, or a union's raw mirror) */
            break;
        }
        f = slot_get(f, fr_parent, "parent");
        if (f == NULL) {
            goto done;
        }
    }
    for (Py_ssize_t i = n - 1; i >= 0; i--) { /* top-down: each parent is changeable first */
        f = chain[i];
        Py_XSETREF(SLOT(f, fr_epoch), Py_NewRef(epoch));
        if (!visible) {
            continue;
        }
        PyObject *obj = slot_get(f, fr_obj, "obj");
        if (obj == NULL) {
            goto done;
        }
        PyObject *copy;
        if (PyList_CheckExact(obj)) {
            copy = copy_list(f, obj);
        }
        else if (PyDict_CheckExact(obj)) {
            copy = PyDict_Copy(obj);
        }
        else {
            copy = copy_model(f, obj);
        }
        if (copy == NULL) {
            goto done;
        }
        Py_SETREF(SLOT(f, fr_obj), copy); /* the slot holds `copy` */
        PyObject *parent = slot_get(f, fr_parent, "parent");
        if (parent == NULL) {
            goto done;
        }
        int rc;
        if (parent == Py_None) {
            rc = PyObject_SetAttr(validator, s_partial, copy);
        }
        else {
            PyObject *target = slot_get(parent, fr_obj, "obj");
            PyObject *key = slot_get(f, fr_slot, "slot");
            if (target == NULL || key == NULL) {
                goto done;
            }
            if (PyList_CheckExact(target) || PyDict_CheckExact(target)) {
                rc = PyObject_SetItem(target, key, copy);
            }
            else {
                PyObject *dict = PyObject_GenericGetDict(target, NULL);
                if (dict == NULL) {
                    goto done;
                }
                rc = PyDict_SetItem(dict, key, copy);
                Py_DECREF(dict);
            }
        }
        if (rc < 0) {
            goto done;
        }
    }
    result = slot_get(frame, fr_obj, "obj");
    Py_XINCREF(result);
done:
    if (chain != fixed) {
        PyMem_Free(chain);
    }
    return result;
}

/* ------------------------------------------------------------------ updates
 *
 * `new_update(Update, index, partial, events, completed, elements, errors, parts, done,
 * final, finish_reason, usage)` builds the emitter's frozen `Update` (src/streamdantic/
 * _update.py) as `_update._py_new_update` does: the instance allocated and its eleven
 * slots, plus the `_deltas` cache (None), stored at the offsets of their member
 * descriptors, without the Python-level __init__ (a frame and twelve slot writes, about
 * five times this). The emitter builds one per visible change, usually one per chunk.
 */

#define N_UPDATE_FIELDS 11
static const char *update_fields[N_UPDATE_FIELDS] = {
    "_index", "_partial", "_events", "_completed", "_elements", "_errors",
    "_parts", "_done", "_final", "_finish_reason", "_usage",
};
static PyTypeObject *update_type;
static Py_ssize_t up_offsets[N_UPDATE_FIELDS], up_deltas;

static PyObject *
setup_updates(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *cls;
    if (!PyArg_ParseTuple(args, "O!:setup_updates", &PyType_Type, &cls)) {
        return NULL;
    }
    PyTypeObject *t = (PyTypeObject *)cls;
    for (int i = 0; i < N_UPDATE_FIELDS; i++) {
        if (slot_offset(t, update_fields[i], &up_offsets[i]) < 0) {
            return NULL;
        }
    }
    if (slot_offset(t, "_deltas", &up_deltas) < 0) {
        return NULL;
    }
    Py_INCREF(t);
    Py_XSETREF(update_type, t);
    Py_RETURN_NONE;
}

static PyObject *
new_update(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    (void)module;
    if (nargs != N_UPDATE_FIELDS + 1) {
        PyErr_Format(PyExc_TypeError, "new_update() takes %d arguments (%zd given)",
                     N_UPDATE_FIELDS + 1, nargs);
        return NULL;
    }
    if (update_type == NULL || args[0] != (PyObject *)update_type) {
        PyErr_SetString(PyExc_TypeError,
                        "new_update() takes the Update class given to setup_updates()");
        return NULL;
    }
    PyObject *obj = update_type->tp_alloc(update_type, 0);
    if (obj == NULL) {
        return NULL;
    }
    /* No allocation below, so no collection can see the slots half set (NULL slots are
     * skipped by the type's traverse anyway). */
    for (int i = 0; i < N_UPDATE_FIELDS; i++) {
        SLOT(obj, up_offsets[i]) = Py_NewRef(args[i + 1]);
    }
    SLOT(obj, up_deltas) = Py_NewRef(Py_None);
    return obj;
}

/* ------------------------------------------------------------------ the stream's text step
 *
 * `TextStep(core, pipeline, emitter)` is the compiled twin of `_text_step.PyTextStep`: one
 * text item of a stream fed as `StreamCore.feed` -> `ObjectPipeline.feed_text` ->
 * `Emitter.take` would, for the configuration nearly every stream has (JSON content, the
 * default policy "changes", no field/element callbacks), in one C call. The item's text is
 * appended to the pipeline's raw text, fed to its parser, the events handed to the
 * pipeline's `changes_of` (the validator's `apply`), and a visible change becomes an
 * `Update` built as `new_update` builds one, the emitter's `_count` incremented. Everything
 * else goes back to Python, where the state lives:
 *   - before the item is consumed, when the stream is closed, the emitter holds anything
 *     (`held`, a pending list), a callback is registered, the parser does not exist yet, or
 *     the item is neither `str` nor `bytes` nor an adapter's text event: `core._feed(item)`;
 *   - after the parse, a batch with invalid values or no visible change:
 *     `core._take(events, changes, 0.0, out)` (raise or report, pending events kept).
 * It reads its state where it lives (the emitter's slots, the pipeline's `_parser` slot,
 * the core's `_closed`), so nothing is kept in two places. An adapter's event goes the same
 * way when the source router already knows its type and the adapter's `text_of` gives its
 * text (`_source.SourceRouter`'s hot path); when `text_of` gives None the event goes to
 * `core._feed_event(item)`, which routes it without asking `text_of` again.
 *
 * `Outputs(step, iterator, every)` is the compiled twin of `_text_step.py_outputs`, the
 * untimed loop of `Stream._outputs`: for each item of `iterator`, each of `step(item)`'s
 * outputs (only the `Update`s unless `every`). With a `TextStep`, an item that makes an
 * update or nothing crosses no Python frame of the stream layer.
 */

static PyTypeObject *emitter_type, *pipeline_type, *router_type;
static Py_ssize_t em_count, em_held, em_source, em_view, em_events, em_completed, em_elements,
    em_errors, em_parts, em_field_callbacks, em_element_callbacks;
static Py_ssize_t pl_parser, pl_raw, rt_adapter_type, rt_text_of;
static PyObject *s_changed, *s_errors, *s_completed,
    *s_elements, *s_feed, *s_feed_fallback, *s_take, *s_feed_event, *s_changes_of,
    *s_partial_property, *zero_float, *one;

static PyObject *
setup_text_step(PyObject *module, PyObject *args)
{
    (void)module;
    PyObject *emitter, *pipeline, *router;
    if (!PyArg_ParseTuple(args, "O!O!O!:setup_text_step", &PyType_Type, &emitter, &PyType_Type,
                          &pipeline, &PyType_Type, &router)) {
        return NULL;
    }
    PyTypeObject *e = (PyTypeObject *)emitter, *p = (PyTypeObject *)pipeline;
    PyTypeObject *r = (PyTypeObject *)router;
    if (slot_offset(e, "_count", &em_count) < 0 || slot_offset(e, "held", &em_held) < 0 ||
        slot_offset(e, "_source", &em_source) < 0 || slot_offset(e, "_view", &em_view) < 0 ||
        slot_offset(e, "_events", &em_events) < 0 ||
        slot_offset(e, "_completed", &em_completed) < 0 ||
        slot_offset(e, "_elements", &em_elements) < 0 ||
        slot_offset(e, "_errors", &em_errors) < 0 || slot_offset(e, "_parts", &em_parts) < 0 ||
        slot_offset(e, "_field_callbacks", &em_field_callbacks) < 0 ||
        slot_offset(e, "_element_callbacks", &em_element_callbacks) < 0 ||
        slot_offset(p, "_parser", &pl_parser) < 0 || slot_offset(p, "_raw", &pl_raw) < 0 ||
        slot_offset(r, "_adapter_type", &rt_adapter_type) < 0 ||
        slot_offset(r, "_text_of", &rt_text_of) < 0) {
        return NULL;
    }
    Py_INCREF(e);
    Py_XSETREF(emitter_type, e);
    Py_INCREF(p);
    Py_XSETREF(pipeline_type, p);
    Py_INCREF(r);
    Py_XSETREF(router_type, r);
    Py_RETURN_NONE;
}

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *core;
    PyObject *pipeline;
    PyObject *emitter;
    PyObject *router;
    PyObject *feed_fallback; /* core._feed */
    PyObject *take;          /* core._take */
    PyObject *feed_event;    /* core._feed_event */
    PyObject *changes_of;    /* pipeline.changes_of */
    PyObject *parser;        /* the pipeline's parser, once it exists, and its bound feed */
    PyObject *parser_feed;
    int compiled_feed;       /* the parser's feed is ParserCore's: called directly */
    PyObject *partial_of;    /* the getter of the view's `partial` property, or NULL */
    /* The core's slots read per item, at the offsets of its type's member descriptors. */
    Py_ssize_t co_closed, co_finish_reason, co_usage;
} TextStep;

enum { STEP_FALLBACK, STEP_NOTHING, STEP_UPDATE, STEP_LIST, STEP_EVENT };

static PyTypeObject TextStepType;

/* An emitter slot that must be set (a half-built emitter is a bug, not a fallback). */
static inline PyObject *
em_slot(TextStep *self, Py_ssize_t offset, const char *name)
{
    return slot_get(self->emitter, offset, name);
}

/* 1 if the list slot is an empty list, 0 if it holds anything, -1 on error. */
static inline int
empty_list_slot(TextStep *self, Py_ssize_t offset, const char *name)
{
    PyObject *list = em_slot(self, offset, name);
    if (list == NULL) {
        return -1;
    }
    if (PyList_CheckExact(list)) {
        return PyList_GET_SIZE(list) == 0;
    }
    int full = PyObject_IsTrue(list);
    return full < 0 ? -1 : !full;
}

/* 1 when an item may take the compiled path (the conditions of the module comment), 0 when
 * it goes to Python, -1 on error. */
static int
step_ready(TextStep *self)
{
    PyObject *closed = slot_get(self->core, self->co_closed, "_closed");
    if (closed == NULL) {
        return -1;
    }
    int is_closed = closed == Py_False ? 0 : closed == Py_True ? 1 : PyObject_IsTrue(closed);
    if (is_closed != 0) {
        return is_closed < 0 ? -1 : 0;
    }
    PyObject *held = em_slot(self, em_held, "held");
    if (held == NULL) {
        return -1;
    }
    if (held != Py_False) {
        int is_held = PyObject_IsTrue(held);
        if (is_held != 0) {
            return is_held < 0 ? -1 : 0;
        }
    }
    static const struct {
        Py_ssize_t *offset;
        const char *name;
    } lists[] = {
        {&em_events, "_events"},
        {&em_completed, "_completed"},
        {&em_elements, "_elements"},
        {&em_errors, "_errors"},
        {&em_parts, "_parts"},
        {&em_field_callbacks, "_field_callbacks"},
        {&em_element_callbacks, "_element_callbacks"},
    };
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        int empty = empty_list_slot(self, *lists[i].offset, lists[i].name);
        if (empty != 1) {
            return empty;
        }
    }
    PyObject *parser = slot_get(self->pipeline, pl_parser, "_parser");
    if (parser == NULL) {
        return -1;
    }
    if (parser == Py_None) {
        return 0; /* the first text: the pipeline makes its parser */
    }
    if (parser != self->parser) {
        PyObject *feed = PyObject_GetAttr(parser, s_feed);
        if (feed == NULL) {
            return -1;
        }
        PyObject *own = _PyType_Lookup(Py_TYPE(parser), s_feed); /* borrowed */
        self->compiled_feed = own != NULL && PyObject_TypeCheck(parser, &CoreType) &&
                              own == PyDict_GetItemWithError(CoreType.tp_dict, s_feed);
        Py_INCREF(parser);
        Py_XSETREF(self->parser, parser);
        Py_XSETREF(self->parser_feed, feed);
    }
    return 1;
}

/* A truth test that is quick for the bool and tuple/list attributes of `Changes`. */
static inline int
truth(PyObject *obj)
{
    if (obj == Py_False || obj == Py_None) {
        return 0;
    }
    if (obj == Py_True) {
        return 1;
    }
    if (PyTuple_CheckExact(obj)) {
        return PyTuple_GET_SIZE(obj) != 0;
    }
    if (PyList_CheckExact(obj)) {
        return PyList_GET_SIZE(obj) != 0;
    }
    return PyObject_IsTrue(obj);
}

/* `seq` as a tuple: () when empty (the emitter's `tuple(x) if x else ()`). */
static PyObject *
as_tuple(PyObject *seq)
{
    int full = truth(seq);
    if (full <= 0) {
        return full < 0 ? NULL : Py_NewRef(empty_tuple);
    }
    if (PyList_CheckExact(seq)) {
        return PyList_AsTuple(seq);
    }
    return PySequence_Tuple(seq);
}

/* The update for a batch of events that changed something visible, with nothing pending
 * (`Emitter.take`'s inline build): its tuples, the view's partial, the source's finish
 * reason and usage, the emitter's count, which is then incremented. */
static PyObject *
step_update(TextStep *self, PyObject *events, PyObject *changes)
{
    PyObject *fields[N_UPDATE_FIELDS] = {NULL};
    PyObject *update = NULL, *completed = NULL, *elements = NULL, *next = NULL;
    PyObject *view = em_slot(self, em_view, "_view");
    PyObject *count = em_slot(self, em_count, "_count");
    if (view == NULL || count == NULL) {
        return NULL;
    }
    Py_INCREF(view); /* both kept while Python code runs below */
    Py_INCREF(count);
    if ((completed = PyObject_GetAttr(changes, s_completed)) == NULL ||
        (elements = PyObject_GetAttr(changes, s_elements)) == NULL ||
        (fields[1] = self->partial_of != NULL ? PyObject_CallOneArg(self->partial_of, view)
                                              : PyObject_GetAttr(view, s_partial_property)) ==
            NULL ||
        (fields[2] = PyList_AsTuple(events)) == NULL ||
        (fields[3] = as_tuple(completed)) == NULL || (fields[4] = as_tuple(elements)) == NULL ||
        (next = PyNumber_Add(count, one)) == NULL) {
        goto done;
    }
    /* The emitter's source is the core (checked when the step was made): read its slots. */
    PyObject *finish_reason = slot_get(self->core, self->co_finish_reason, "finish_reason");
    PyObject *usage = slot_get(self->core, self->co_usage, "usage");
    if (finish_reason == NULL || usage == NULL) {
        goto done;
    }
    fields[9] = Py_NewRef(finish_reason);
    fields[10] = Py_NewRef(usage);
    fields[0] = Py_NewRef(count);
    fields[5] = Py_NewRef(empty_tuple);
    fields[6] = Py_NewRef(empty_tuple);
    fields[7] = Py_NewRef(Py_False);
    fields[8] = Py_NewRef(Py_None);
    update = update_type->tp_alloc(update_type, 0);
    if (update == NULL) {
        goto done;
    }
    for (int i = 0; i < N_UPDATE_FIELDS; i++) {
        SLOT(update, up_offsets[i]) = fields[i]; /* the reference moves to the update */
        fields[i] = NULL;
    }
    SLOT(update, up_deltas) = Py_NewRef(Py_None);
    Py_XSETREF(SLOT(self->emitter, em_count), next);
    next = NULL;
done:
    for (int i = 0; i < N_UPDATE_FIELDS; i++) {
        Py_XDECREF(fields[i]);
    }
    Py_XDECREF(completed);
    Py_XDECREF(elements);
    Py_XDECREF(next);
    Py_DECREF(count);
    Py_DECREF(view);
    return update;
}

/* One piece of text (the checks of step_ready passed): what it made. */
static int
step_text(TextStep *self, PyObject *text, PyObject **result)
{
    PyObject *raw = slot_get(self->pipeline, pl_raw, "_raw");
    if (raw == NULL || PyList_Append(raw, text) < 0) {
        return -1;
    }
    PyObject *events;
    if (self->compiled_feed) { /* ParserCore.feed, without the bound method's hops */
        PyObject *parser = Py_NewRef(self->parser);
        events = Core_feed((Core *)parser, text);
        Py_DECREF(parser);
    }
    else {
        PyObject *feed = Py_NewRef(self->parser_feed);
        events = PyObject_CallOneArg(feed, text);
        Py_DECREF(feed);
    }
    if (events == NULL) {
        return -1;
    }
    if (!PyList_CheckExact(events)) {
        Py_DECREF(events);
        PyErr_SetString(PyExc_TypeError, "the parser's feed() must return a list");
        return -1;
    }
    if (PyList_GET_SIZE(events) == 0) {
        Py_DECREF(events);
        return STEP_NOTHING; /* most pieces of text end inside a token */
    }
    PyObject *changes = PyObject_CallOneArg(self->changes_of, events);
    if (changes == NULL) {
        Py_DECREF(events);
        return -1;
    }
    int fast = 0;
    PyObject *errors = PyObject_GetAttr(changes, s_errors);
    if (errors != NULL) {
        int has_errors = truth(errors);
        Py_DECREF(errors);
        if (has_errors == 0) {
            PyObject *changed = PyObject_GetAttr(changes, s_changed);
            fast = changed == NULL ? -1 : truth(changed);
            Py_XDECREF(changed);
        }
        else {
            fast = has_errors < 0 ? -1 : 0;
        }
    }
    else {
        fast = -1;
    }
    int outcome = -1;
    if (fast > 0) {
        *result = step_update(self, events, changes);
        outcome = *result == NULL ? -1 : STEP_UPDATE;
    }
    else if (fast == 0) {
        /* Invalid values (raised or reported) or nothing visible: the emitter decides. */
        PyObject *out = PyList_New(0);
        if (out != NULL) {
            PyObject *args[] = {events, changes, zero_float, out};
            PyObject *none = PyObject_Vectorcall(self->take, args, 4, NULL);
            if (none == NULL) {
                Py_DECREF(out);
            }
            else {
                Py_DECREF(none);
                *result = out;
                outcome = STEP_LIST;
            }
        }
    }
    Py_DECREF(events);
    Py_DECREF(changes);
    return outcome;
}

/* One fed item: STEP_FALLBACK (not consumed: `core._feed(item)` takes it), STEP_NOTHING,
 * STEP_UPDATE or STEP_LIST (with `*result`), STEP_EVENT (an adapter's event with no text
 * of its own: `core._feed_event(item)` takes it), or -1. */
static int
step_item(TextStep *self, PyObject *item, PyObject **result)
{
    PyTypeObject *kind = Py_TYPE(item);
    if (kind == &PyUnicode_Type || kind == &PyBytes_Type) {
        int ready = step_ready(self);
        return ready <= 0 ? (ready < 0 ? -1 : STEP_FALLBACK) : step_text(self, item, result);
    }
    PyObject *adapter_type = slot_get(self->router, rt_adapter_type, "_adapter_type");
    if (adapter_type == NULL) {
        return -1;
    }
    if ((PyObject *)kind != adapter_type) {
        return STEP_FALLBACK;
    }
    PyObject *text_of = slot_get(self->router, rt_text_of, "_text_of");
    if (text_of == NULL) {
        return -1;
    }
    if (text_of == Py_None) {
        return STEP_FALLBACK;
    }
    int ready = step_ready(self);
    if (ready <= 0) {
        return ready < 0 ? -1 : STEP_FALLBACK;
    }
    Py_INCREF(text_of);
    PyObject *text = PyObject_CallOneArg(text_of, item);
    Py_DECREF(text_of);
    if (text == NULL) {
        return -1;
    }
    int outcome;
    if (text == Py_None) {
        outcome = STEP_EVENT;
    }
    else {
        outcome = step_text(self, text, result); /* as the router hands it to on_text */
    }
    Py_DECREF(text);
    return outcome;
}

/* What a fallback outcome becomes: the list of the Python path. */
static PyObject *
step_python(TextStep *self, int outcome, PyObject *item)
{
    return PyObject_CallOneArg(outcome == STEP_EVENT ? self->feed_event : self->feed_fallback,
                               item);
}

static PyObject *
TextStep_vectorcall(PyObject *callable, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    TextStep *self = (TextStep *)callable;
    if (PyVectorcall_NARGS(nargsf) != 1 || kwnames != NULL) {
        PyErr_SetString(PyExc_TypeError, "a text step takes one item");
        return NULL;
    }
    PyObject *result = NULL;
    int outcome = step_item(self, args[0], &result);
    switch (outcome) {
    case STEP_NOTHING:
        return PyList_New(0);
    case STEP_UPDATE: {
        PyObject *out = PyList_New(1);
        if (out == NULL) {
            Py_DECREF(result);
            return NULL;
        }
        PyList_SET_ITEM(out, 0, result);
        return out;
    }
    case STEP_LIST:
        return result;
    case STEP_FALLBACK:
    case STEP_EVENT:
        return step_python(self, outcome, args[0]);
    default:
        return NULL;
    }
}

static PyObject *
TextStep_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *core, *pipeline, *emitter, *router;
    static char *kwlist[] = {"core", "pipeline", "emitter", "router", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOOO:TextStep", kwlist, &core, &pipeline,
                                     &emitter, &router)) {
        return NULL;
    }
    if (emitter_type == NULL || update_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "streamdantic._speedups.setup_text_step() and setup_updates() not called");
        return NULL;
    }
    if (!Py_IS_TYPE(emitter, emitter_type) || !Py_IS_TYPE(pipeline, pipeline_type) ||
        !Py_IS_TYPE(router, router_type)) {
        PyErr_SetString(PyExc_TypeError,
                        "TextStep() takes the core, and the Emitter, ObjectPipeline and "
                        "SourceRouter given to setup_text_step()");
        return NULL;
    }
    Py_ssize_t co_closed, co_finish_reason, co_usage;
    PyTypeObject *core_type = Py_TYPE(core);
    if (slot_offset(core_type, "_closed", &co_closed) < 0 ||
        slot_offset(core_type, "finish_reason", &co_finish_reason) < 0 ||
        slot_offset(core_type, "usage", &co_usage) < 0) {
        return NULL;
    }
    if (SLOT(emitter, em_source) != core) {
        PyErr_SetString(PyExc_TypeError, "TextStep() takes the core the emitter reads");
        return NULL;
    }
    /* The view's `partial`, when it is a property (its getter called without the lookup). */
    PyObject *partial_of = NULL, *view = SLOT(emitter, em_view);
    if (view == NULL) {
        PyErr_SetString(PyExc_TypeError, "TextStep() takes an emitter with a view");
        return NULL;
    }
    PyObject *prop = _PyType_Lookup(Py_TYPE(view), s_partial_property); /* borrowed */
    if (prop != NULL && Py_IS_TYPE(prop, &PyProperty_Type)) {
        partial_of = PyObject_GetAttrString(prop, "fget");
        if (partial_of == NULL) {
            return NULL;
        }
        if (partial_of == Py_None) {
            Py_CLEAR(partial_of);
        }
    }
    TextStep *self = (TextStep *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_XDECREF(partial_of);
        return NULL;
    }
    self->partial_of = partial_of;
    self->co_closed = co_closed;
    self->co_finish_reason = co_finish_reason;
    self->co_usage = co_usage;
    self->vectorcall = TextStep_vectorcall;
    self->core = Py_NewRef(core);
    self->pipeline = Py_NewRef(pipeline);
    self->emitter = Py_NewRef(emitter);
    self->router = Py_NewRef(router);
    if ((self->feed_fallback = PyObject_GetAttr(core, s_feed_fallback)) == NULL ||
        (self->take = PyObject_GetAttr(core, s_take)) == NULL ||
        (self->feed_event = PyObject_GetAttr(core, s_feed_event)) == NULL ||
        (self->changes_of = PyObject_GetAttr(pipeline, s_changes_of)) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static int
TextStep_traverse(TextStep *self, visitproc visit, void *arg)
{
    Py_VISIT(self->core);
    Py_VISIT(self->pipeline);
    Py_VISIT(self->emitter);
    Py_VISIT(self->router);
    Py_VISIT(self->feed_fallback);
    Py_VISIT(self->take);
    Py_VISIT(self->feed_event);
    Py_VISIT(self->changes_of);
    Py_VISIT(self->parser);
    Py_VISIT(self->parser_feed);
    Py_VISIT(self->partial_of);
    return 0;
}

static int
TextStep_clear(TextStep *self)
{
    Py_CLEAR(self->core);
    Py_CLEAR(self->pipeline);
    Py_CLEAR(self->emitter);
    Py_CLEAR(self->router);
    Py_CLEAR(self->feed_fallback);
    Py_CLEAR(self->take);
    Py_CLEAR(self->feed_event);
    Py_CLEAR(self->changes_of);
    Py_CLEAR(self->parser);
    Py_CLEAR(self->parser_feed);
    Py_CLEAR(self->partial_of);
    return 0;
}

static void
TextStep_dealloc(TextStep *self)
{
    PyObject_GC_UnTrack(self);
    TextStep_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject TextStepType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamdantic._speedups.TextStep",
    .tp_basicsize = sizeof(TextStep),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "TextStep(core, pipeline, emitter, router): a stream's per-item step (see "
              "_text_step.py).",
    .tp_new = TextStep_new,
    .tp_dealloc = (destructor)TextStep_dealloc,
    .tp_traverse = (traverseproc)TextStep_traverse,
    .tp_clear = (inquiry)TextStep_clear,
    .tp_vectorcall_offset = offsetof(TextStep, vectorcall),
    .tp_call = PyVectorcall_Call,
};

typedef struct {
    PyObject_HEAD
    PyObject *step;
    PyObject *iterator;
    PyObject *buffer; /* the outputs of the last item, handed out from `pos` */
    Py_ssize_t pos;
    int every;
    int running; /* in __next__: a re-entrant call is refused, as a generator's is */
} Outputs;

static PyObject *
Outputs_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    PyObject *step, *iterable;
    int every;
    static char *kwlist[] = {"step", "iterator", "every", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OOp:Outputs", kwlist, &step, &iterable,
                                     &every)) {
        return NULL;
    }
    if (update_type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "streamdantic._speedups.setup_updates() not called");
        return NULL;
    }
    PyObject *iterator = PyObject_GetIter(iterable);
    if (iterator == NULL) {
        return NULL;
    }
    Outputs *self = (Outputs *)type->tp_alloc(type, 0);
    if (self == NULL) {
        Py_DECREF(iterator);
        return NULL;
    }
    self->step = Py_NewRef(step);
    self->iterator = iterator;
    self->every = every;
    return (PyObject *)self;
}

static PyObject *Outputs_next(Outputs *self);

static PyObject *
Outputs_iternext(Outputs *self)
{
    if (self->running) {
        PyErr_SetString(PyExc_ValueError, "generator already executing");
        return NULL;
    }
    self->running = 1;
    PyObject *out = Outputs_next(self);
    self->running = 0;
    return out;
}

static PyObject *
Outputs_next(Outputs *self)
{
    for (;;) {
        PyObject *buffer = self->buffer;
        if (buffer != NULL) {
            while (self->pos < PyList_GET_SIZE(buffer)) {
                PyObject *out = PyList_GET_ITEM(buffer, self->pos);
                self->pos++;
                if (self->every || Py_IS_TYPE(out, update_type)) {
                    return Py_NewRef(out);
                }
            }
            Py_CLEAR(self->buffer);
        }
        if (self->iterator == NULL) {
            return NULL; /* exhausted (or failed) before */
        }
        PyObject *iterator = Py_NewRef(self->iterator);
        PyObject *item = Py_TYPE(iterator)->tp_iternext(iterator);
        Py_DECREF(iterator);
        if (item == NULL) {
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_StopIteration)) {
                PyErr_Clear();
            }
            Py_CLEAR(self->iterator); /* exhausted, or failed: finished either way */
            return NULL;
        }
        PyObject *step = Py_NewRef(self->step), *result = NULL, *outputs;
        int outcome = Py_IS_TYPE(step, &TextStepType)
                          ? step_item((TextStep *)step, item, &result)
                          : STEP_FALLBACK;
        switch (outcome) {
        case STEP_NOTHING:
            outputs = NULL;
            break;
        case STEP_UPDATE:
            Py_DECREF(step);
            Py_DECREF(item);
            return result; /* an Update: every mode hands it on */
        case STEP_LIST:
            outputs = result;
            break;
        case STEP_FALLBACK:
        case STEP_EVENT:
            outputs = Py_IS_TYPE(step, &TextStepType)
                          ? step_python((TextStep *)step, outcome, item)
                          : PyObject_CallOneArg(step, item);
            if (outputs == NULL) {
                outcome = -1;
            }
            break;
        default:
            outputs = NULL;
        }
        Py_DECREF(step);
        Py_DECREF(item);
        if (outcome < 0) {
            Py_CLEAR(self->iterator); /* as a generator that raised: finished */
            return NULL;
        }
        if (outputs != NULL) {
            if (!PyList_CheckExact(outputs)) {
                Py_SETREF(outputs, PySequence_List(outputs));
                if (outputs == NULL) {
                    return NULL;
                }
            }
            Py_XSETREF(self->buffer, outputs);
            self->pos = 0;
        }
    }
}

static int
Outputs_traverse(Outputs *self, visitproc visit, void *arg)
{
    Py_VISIT(self->step);
    Py_VISIT(self->iterator);
    Py_VISIT(self->buffer);
    return 0;
}

static int
Outputs_clear(Outputs *self)
{
    Py_CLEAR(self->step);
    Py_CLEAR(self->iterator);
    Py_CLEAR(self->buffer);
    return 0;
}

static void
Outputs_dealloc(Outputs *self)
{
    PyObject_GC_UnTrack(self);
    Outputs_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyTypeObject OutputsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "streamdantic._speedups.Outputs",
    .tp_basicsize = sizeof(Outputs),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Outputs(step, iterator, every): each output of step(item) for each item "
              "(see _text_step.py).",
    .tp_new = Outputs_new,
    .tp_dealloc = (destructor)Outputs_dealloc,
    .tp_traverse = (traverseproc)Outputs_traverse,
    .tp_clear = (inquiry)Outputs_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)Outputs_iternext,
};

static PyMethodDef module_methods[] = {
    {"setup", setup, METH_VARARGS,
     "setup(ValueStarted, StringAppended, ValueCompleted, DocumentCompleted, "
     "LimitExceededError)\n--\n\nRegister the classes the parser creates."},
    {"prescan", (PyCFunction)(void (*)(void))prescan, METH_FASTCALL,
     "prescan(state, data, base, step, max_depth, max_string, max_number, jsonl)\n--\n\n"
     "The limits pre-scan of batch collection; see streamdantic._limits."},
    {"setup_snapshots", setup_snapshots, METH_VARARGS,
     "setup_snapshots(Frame, BaseModel)\n--\n\nRegister the classes `own_path` reads."},
    {"own_path", (PyCFunction)(void (*)(void))own_path, METH_FASTCALL,
     "own_path(frame, epoch, validator)\n--\n\nCopy the published containers on a "
     "frame's path; see streamdantic._validation."},
    {"setup_updates", setup_updates, METH_VARARGS,
     "setup_updates(Update)\n--\n\nRegister the class `new_update` builds."},
    {"new_update", (PyCFunction)(void (*)(void))new_update, METH_FASTCALL,
     "new_update(Update, index, partial, events, completed, elements, errors, parts, done, "
     "final, finish_reason, usage)\n--\n\nBuild an Update without its __init__; see "
     "streamdantic._update."},
    {"setup_text_step", setup_text_step, METH_VARARGS,
     "setup_text_step(Emitter, ObjectPipeline, SourceRouter)\n--\n\nRegister the classes "
     "whose slots `TextStep` reads."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "streamdantic._speedups",
    .m_doc = "The compiled core of streamdantic's JSON parser and of its partial snapshots.",
    .m_size = -1,
    .m_methods = module_methods,
};

#define INTERN(var, text)                           \
    do {                                            \
        var = PyUnicode_InternFromString(text);     \
        if (var == NULL) {                          \
            return NULL;                            \
        }                                           \
    } while (0)

PyMODINIT_FUNC
PyInit__speedups(void)
{
    INTERN(s_object, "object");
    INTERN(s_array, "array");
    INTERN(s_string, "string");
    INTERN(s_empty, "");
    INTERN(s_fail, "_fail");
    INTERN(s_fail_long_int, "_fail_long_int");
    INTERN(s_escape, "_escape");
    INTERN(s_prepare_text, "_prepare_text");
    INTERN(s_refuse, "_refuse");
    INTERN(s_states, "_states");
    INTERN(s_partial, "_partial");
    INTERN(s_partial_property, "partial");
    INTERN(s_changed, "changed");
    INTERN(s_errors, "errors");
    INTERN(s_completed, "completed");
    INTERN(s_elements, "elements");
    INTERN(s_feed, "feed");
    INTERN(s_feed_fallback, "_feed");
    INTERN(s_take, "_take");
    INTERN(s_feed_event, "_feed_event");
    INTERN(s_changes_of, "changes_of");
    for (const char *d = " \t\n\r,:[]{}\""; *d; d++) {
        ps_delim[(unsigned char)*d] = 1;
    }
    ps_class[' '] = ps_class['\t'] = ps_class[','] = ps_class[':'] = PS_C_SKIP;
    ps_class['\n'] = ps_class['\r'] = PS_C_NEWLINE;
    ps_class['['] = ps_class['{'] = PS_C_OPEN;
    ps_class[']'] = ps_class['}'] = PS_C_CLOSE;
    ps_class['"'] = PS_C_QUOTE;
    ps_string_stop['"'] = ps_string_stop['\\'] = 1;
    ps_string_stop_lines['"'] = ps_string_stop_lines['\\'] = 1;
    ps_string_stop_lines['\n'] = ps_string_stop_lines['\r'] = 1;
    empty_tuple = PyTuple_New(0);
    zero_float = PyFloat_FromDouble(0.0);
    one = PyLong_FromLong(1);
    if (empty_tuple == NULL || zero_float == NULL || one == NULL) {
        return NULL;
    }
    PyObject *codecs = PyImport_ImportModule("codecs");
    if (codecs == NULL) {
        return NULL;
    }
    incremental_decoder = PyObject_GetAttrString(codecs, "IncrementalDecoder");
    Py_DECREF(codecs);
    if (incremental_decoder == NULL) {
        return NULL;
    }
    for (int i = 0; i < N_OBJECT_FIELDS; i++) {
        PyGetSetDef *def = &Core_getset[1 + i];
        def->name = object_fields[i].name;
        def->get = (getter)field_get;
        def->set = (setter)field_set;
        def->doc = NULL;
        def->closure = &object_fields[i];
    }
    if (PyType_Ready(&CoreType) < 0) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) {
        return NULL;
    }
    Py_INCREF(&CoreType);
    if (PyModule_AddObject(module, "ParserCore", (PyObject *)&CoreType) < 0) {
        Py_DECREF(&CoreType);
        Py_DECREF(module);
        return NULL;
    }
    if (PyType_Ready(&ShellType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    Py_INCREF(&ShellType);
    if (PyModule_AddObject(module, "GeneratorShell", (PyObject *)&ShellType) < 0) {
        Py_DECREF(&ShellType);
        Py_DECREF(module);
        return NULL;
    }
    if (PyType_Ready(&TextStepType) < 0 || PyType_Ready(&OutputsType) < 0 ||
        PyModule_AddObjectRef(module, "TextStep", (PyObject *)&TextStepType) < 0 ||
        PyModule_AddObjectRef(module, "Outputs", (PyObject *)&OutputsType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
