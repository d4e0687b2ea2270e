"""The data-access facts: ORM/database accesses, client page sizes and throttling in function bodies."""

from __future__ import annotations

import pickle
import textwrap

from authlint.engine import FileSettings, analyze_text
from authlint.facts import data_access
from authlint.facts.data_access import (
    COUNT,
    CREATE,
    DELETE,
    FILTER,
    GET,
    LIST,
    UPDATE,
    Access,
    Called,
    PageSize,
)
from authlint.facts.file_facts import FunctionFacts

FACTS_ONLY = FileSettings((), (), collect_facts=True)


def facts_of(source: str, header: str = "import fastapi\n") -> dict[str, FunctionFacts]:
    result = analyze_text(header + textwrap.dedent(source), "app/views.py", FACTS_ONLY, module_path="app/views.py")
    assert result.facts is not None, result.errors
    assert not result.errors
    return result.facts.functions


def accesses(source: str, function: str, header: str = "import fastapi\n") -> list[Access]:
    return data_access.accesses(facts_of(source, header)[function])


def only(source: str, function: str, header: str = "import fastapi\n") -> Access:
    found = accesses(source, function, header)
    assert len(found) == 1, found
    return found[0]


# SQLAlchemy -------------------------------------------------------------------


def test_a_legacy_query_returned_through_names_and_a_comprehension_lists_every_row() -> None:
    access = only(
        """
        def list_users(db):
            users = db.query(User).all()
            rows = [{"id": u.id} for u in users]
            return {"rows": rows}
        """,
        "list_users",
    )
    assert (access.operation, access.library, access.model) == (LIST, "sqlalchemy", "User")
    assert (access.bounded, access.returned) == (False, True)
    assert access.text == "db.query(User).all()"
    assert access.line == 4  # the header line, the blank line of the dedented source, the def
    assert data_access.unbounded_lists(facts_of("def f(db):\n    return db.query(User).all()\n")["f"])


def test_a_statement_built_in_one_place_and_run_in_another_keeps_its_filters_and_limit() -> None:
    functions = facts_of(
        """
        def read_items(session, current_user, skip: int = 0, limit: int = 100):
            count = session.exec(select(func.count()).select_from(Item)).one()
            statement = select(Item).where(Item.owner_id == current_user.id).offset(skip).limit(limit)
            items = session.exec(statement).all()
            return ItemsPublic(data=items, count=count)
        """,
        header="import fastapi\nfrom sqlmodel import func, select\n",
    )
    count, items = data_access.accesses(functions["read_items"])
    assert (count.operation, count.model, count.bounded) == (COUNT, "Item", True)
    assert (items.operation, items.model, items.fields, items.owner_filter) == (FILTER, "Item", ("owner_id",), True)
    assert items.bounded and items.returned
    assert items.text == "session.exec(statement).all()"
    assert data_access.page_sizes(functions["read_items"]) == [PageSize("limit", "limit", "limit()", "", "", 6)]


def test_an_async_result_read_later_is_one_access_of_the_selected_model() -> None:
    access = only(
        """
        async def list_orders(db):
            result = await db.execute(select(Order))
            return result.scalars().all()
        """,
        "list_orders",
        header="import fastapi\nfrom sqlalchemy import select\n",
    )
    assert (access.operation, access.model, access.bounded, access.returned) == (LIST, "Order", False, True)


def test_a_loaded_row_is_read_changed_and_deleted_by_the_same_identifier() -> None:
    found = accesses(
        """
        def update_item(session, item_id, payload):
            item = session.get(Item, item_id)
            item.title = payload.title
            session.add(item)
            return item

        def delete_item(session, item_id):
            item = session.get(Item, item_id)
            session.delete(item)
        """,
        "update_item",
    )
    assert [a.operation for a in found] == [GET, UPDATE, UPDATE]
    assert all(a.identifiers == ("item_id",) and a.fields == ("pk",) for a in found)
    assert not any(a.owner_filter for a in found)
    deleted = accesses("def d(session, item_id):\n    item = session.get(Item, item_id)\n    session.delete(item)\n", "d")
    assert [a.operation for a in deleted] == [GET, DELETE]


def test_owner_filters_are_told_apart_from_identifiers_from_the_request() -> None:
    source = """
        def mine(db, user=Depends(get_current_user)):
            return db.query(Order).filter(Order.owner_id == user.id).all()

        def by_path(db, user_id: int):
            return db.query(Order).filter(Order.user_id == user_id).all()

        def flask_mine():
            return Post.query.filter_by(author_id=current_user.id).all()
        """
    functions = facts_of(source)
    (mine,) = data_access.accesses(functions["mine"])
    (by_path,) = data_access.accesses(functions["by_path"])
    (flask_mine,) = data_access.accesses(functions["flask_mine"])
    assert (mine.operation, mine.owner_filter, mine.identifiers) == (FILTER, True, ())
    assert (by_path.operation, by_path.owner_filter, by_path.identifiers) == (FILTER, False, ("user_id",))
    assert flask_mine.owner_filter and flask_mine.model == "Post"


def test_owner_checks_after_a_load_are_recorded() -> None:
    functions = facts_of(
        """
        def read_item(session, current_user, id):
            item = session.get(Item, id)
            if item.owner_id != current_user.id:
                raise HTTPException(status_code=403)
            return item
        """
    )
    assert functions["read_item"].body[data_access.OWNER_CHECKS] == ["item.owner_id != current_user.id"]


# Django --------------------------------------------------------------------------


def test_a_lazy_queryset_runs_where_it_is_used_not_where_it_is_built() -> None:
    found = accesses(
        """
        def orders(request):
            qs = Order.objects.filter(status="open")
            total = qs.count()
            return JsonResponse({"items": list(qs.values()), "total": total})
        """,
        "orders",
    )
    assert [(a.operation, a.text, a.bounded) for a in found] == [
        (COUNT, "qs.count()", True),
        (LIST, "qs.values()", False),  # a filter on constants still returns every matching row
    ]
    assert found[1].fields == ("status",)


def test_slices_and_paginators_bound_a_queryset() -> None:
    functions = facts_of(
        """
        def paged(request):
            qs = Order.objects.all()
            paginator = Paginator(qs, 25)
            return render(request, "x.html", {"page": paginator.get_page(request.GET.get("page"))})

        def sliced(request):
            return JsonResponse(list(Order.objects.order_by("-id")[:20].values()), safe=False)
        """
    )
    (paged,) = data_access.accesses(functions["paged"])
    assert (paged.operation, paged.bounded) == (LIST, True)
    (sliced,) = data_access.accesses(functions["sliced"])
    assert sliced.bounded and sliced.returned


def test_get_object_or_404_and_related_managers() -> None:
    functions = facts_of(
        """
        def detail(request, pk):
            order = get_object_or_404(Order, pk=pk, owner=request.user)
            order.delete()

        def my_orders(request):
            return request.user.orders.all()
        """
    )
    got, deleted = data_access.accesses(functions["detail"])
    assert (got.operation, got.fields, got.identifiers, got.owner_filter) == (GET, ("pk", "owner"), ("pk",), True)
    assert deleted.operation == DELETE and deleted.identifiers == ("pk",)
    (mine,) = data_access.accesses(functions["my_orders"])
    assert (mine.operation, mine.owner_filter) == (FILTER, True)


def test_a_drf_queryset_attribute_is_read_from_its_snapshot() -> None:
    result = analyze_text(
        "from rest_framework import generics\n"
        "class A(generics.ListAPIView):\n    queryset = Order.objects.all()\n"
        "class B(generics.ListAPIView):\n    queryset = Order.objects.filter(owner=CURRENT)[:50]\n",
        "app/views.py",
        FACTS_ONLY,
    )
    a = result.facts.classes["A"].attributes["queryset"]
    b = result.facts.classes["B"].attributes["queryset"]
    assert data_access.queryset_snapshot(a) == (LIST, False, "Order.objects.all()")
    assert data_access.queryset_snapshot(b)[:2] == (FILTER, True)
    assert data_access.queryset_snapshot(result.facts.classes["A"].bases[0]) is None


# MongoDB, active record, raw SQL --------------------------------------------------


def test_mongo_cursors_and_single_documents() -> None:
    functions = facts_of(
        """
        async def everyone(db):
            return await db.users.find({}).to_list(length=None)

        async def one(db, user_id):
            return await db["users"].find_one({"_id": ObjectId(user_id)})

        async def page(db):
            return await db.users.find({}).to_list(length=50)
        """
    )
    (everyone,) = data_access.accesses(functions["everyone"])
    assert (everyone.operation, everyone.library, everyone.model, everyone.bounded) == (LIST, "mongo", "db.users", False)
    (one,) = data_access.accesses(functions["one"])
    assert (one.operation, one.fields, one.identifiers) == (GET, ("_id",), ("user_id",))
    (page,) = data_access.accesses(functions["page"])
    assert page.bounded


def test_active_record_models_and_raw_sql() -> None:
    functions = facts_of(
        """
        async def tortoise():
            users = await User.all()
            return users

        def raw(cursor):
            cursor.execute("SELECT * FROM users")
            rows = cursor.fetchall()
            return rows

        def raw_limited(conn):
            return conn.execute(text("SELECT id FROM users ORDER BY id LIMIT 20")).fetchall()
        """,
        header="import fastapi\nfrom sqlalchemy import text\n",
    )
    (tortoise,) = data_access.accesses(functions["tortoise"])
    assert (tortoise.operation, tortoise.library, tortoise.returned) == (LIST, "orm", True)
    (raw,) = data_access.accesses(functions["raw"])
    assert (raw.operation, raw.library, raw.model, raw.bounded) == (LIST, "sql", "users", False)
    (limited,) = data_access.accesses(functions["raw_limited"])
    assert limited.bounded


def test_look_alikes_are_no_accesses() -> None:
    functions = facts_of(
        """
        def lookalikes(request, text, cache, key):
            a = request.args.get("id")
            b = requests.get(URL)
            c = text.find("x")
            d = cache.get(key)
            e = Config.get("debug")
            f = soup.find("div")
            g = {"a": 1}.get("a")
            return a, b, c, d, e, f, g
        """
    )
    assert data_access.accesses(functions["lookalikes"]) == []


def test_rows_reduced_to_a_number_are_not_returned() -> None:
    (access,) = accesses(
        """
        def stats(db):
            orders = db.query(Order).all()
            return {"revenue": sum(o.total for o in orders), "count": len(db.query(User).all())}
        """,
        "stats",
    )[:1]
    assert not access.returned
    assert not data_access.unbounded_lists(facts_of("def s(db):\n    return {'n': len(db.query(U).all())}\n")["s"])


# Page sizes the client picks ----------------------------------------------------------


def test_page_sizes_from_parameters_and_request_reads_unless_capped() -> None:
    functions = facts_of(
        """
        def from_args():
            per_page = request.args.get("per_page", 20, type=int)
            return Post.query.limit(per_page).all()

        def capped():
            per_page = min(request.args.get("per_page", 20, type=int), 100)
            return Post.query.limit(per_page).all()

        def compared(limit: int = 20):
            if limit > 100:
                raise HTTPException(status_code=400)
            return db.query(Post).limit(limit).all()

        def capped_inline(db, limit: int = 20):
            return db.query(Post).limit(min(limit, 100)).all()

        def sliced(page: int, size: int = 20):
            users = User.objects.all()
            return users[(page - 1) * size: page * size]

        def offset(skip: int = 0, limit: int = 10):
            rows = Post.objects.order_by("id")
            return rows[skip: skip + limit]
        """
    )
    (from_args,) = data_access.page_sizes(functions["from_args"])
    assert (from_args.source, from_args.parameter, from_args.used_in) == ('request.args.get("per_page", 20, type=int)', "", "limit()")
    assert data_access.page_sizes(functions["capped"]) == []
    assert data_access.page_sizes(functions["compared"]) == []
    assert data_access.page_sizes(functions["capped_inline"]) == []
    assert [(s.parameter, s.used_in) for s in data_access.page_sizes(functions["sliced"])] == [("size", "[:...]")]
    assert [s.parameter for s in data_access.page_sizes(functions["offset"])] == ["limit"]


def test_a_page_size_handed_to_a_helper_names_the_helper_and_the_argument() -> None:
    functions = facts_of(
        """
        def read_users(db, skip: int = 0, limit: int = 100):
            return crud.get_users(db, skip=skip, limit=limit)

        def get_users(db, skip, limit):
            return db.query(User).offset(skip).limit(limit).all()
        """
    )
    (handed,) = data_access.page_sizes(functions["read_users"])
    assert (handed.parameter, handed.callee, handed.argument, handed.used_in) == ("limit", "crud.get_users", "limit", "get_users(limit=)")
    assert [s.parameter for s in data_access.page_sizes(functions["get_users"])] == ["limit"]


def test_declared_upper_bounds_and_scalar_parameters() -> None:
    functions = facts_of(
        """
        def f(
            a: int = Query(10, le=100),
            b: Annotated[int, Query(lt=50)] = 10,
            c: conint(ge=1, le=100) = 10,
            d: Literal[10, 20] = 10,
            e: int = 100,
            f: Optional[int] = Query(None),
            g=50,
            db: Session = Depends(get_db),
            h: Annotated[int, Depends(page_size)] = 10,
        ):
            pass
        """
    )
    params = {p.name: p for p in functions["f"].params}
    assert data_access.declared_upper_bound(params["a"]) == "Query(10, le=100)"
    assert data_access.declared_upper_bound(params["b"]) == "Query(lt=50)"
    assert data_access.declared_upper_bound(params["c"]) == "conint(ge=1, le=100)"
    assert data_access.declared_upper_bound(params["d"]) == "Literal[10, 20]"
    assert all(data_access.declared_upper_bound(params[n]) is None for n in "efg")
    assert [n for n, p in params.items() if data_access.is_scalar_parameter(p)] == ["a", "b", "c", "e", "f", "g"]


# Throttling ------------------------------------------------------------------------


def test_throttling_in_bodies_and_in_a_decorators_wrapper() -> None:
    functions = facts_of(
        """
        def manual(request):
            if limiter.hit(request):
                raise HTTPException(status_code=429)

        def tuple_status(request):
            if attempts_exceeded(request):
                return {"error": "slow down"}, 429

        def annotated(request):
            if getattr(request, "limited", False):
                return HttpResponse(status=429)

        def drf(request):
            raise Throttled()

        def throttled(view):
            def wrapper(request, *args, **kwargs):
                if is_ratelimited(request, group="login", key="ip", rate="5/m", increment=True):
                    abort(429)
                return view(request, *args, **kwargs)
            return wrapper

        @throttle_classes([])
        def decorated_only(request):
            return None

        def unrelated(request):
            raise HTTPException(status_code=404)
        """
    )
    assert data_access.rate_limits(functions["manual"]) == ["limiter.hit()", "HTTPException(429)"]
    assert data_access.rate_limits(functions["tuple_status"]) == ["return ..., 429"]
    assert data_access.rate_limits(functions["annotated"]) == ["request.limited", "HttpResponse(429)"]
    assert data_access.rate_limits(functions["drf"]) == ["Throttled()"]
    assert data_access.rate_limits(functions["throttled"]) == ["is_ratelimited()", "abort(429)"]
    assert data_access.rate_limits(functions["throttled.wrapper"]) == ["is_ratelimited()", "abort(429)"]
    assert data_access.rate_limits(functions["decorated_only"]) == []
    assert data_access.rate_limits(functions["unrelated"]) == []


def test_body_facts_pickle_with_the_file_facts() -> None:
    result = analyze_text("import fastapi\ndef f(db, limit: int):\n    return db.query(User).limit(limit).all()\n", "m.py", FACTS_ONLY)
    copy = pickle.loads(pickle.dumps(result.facts))
    assert copy.functions["f"].body == result.facts.functions["f"].body
    assert isinstance(copy.functions["f"].body[data_access.ACCESSES][0], Access)


def test_operations_for_writes() -> None:
    functions = facts_of(
        """
        def writes(db, request, payload, item_id):
            Order.objects.create(owner=request.user, **payload)
            Order.objects.filter(pk=item_id).update(status="paid")
            db.users.delete_one({"_id": item_id})
            db.execute(update(Item).where(Item.id == item_id).values(done=True))
        """,
        header="import fastapi\nfrom sqlalchemy import update\n",
    )
    found = data_access.accesses(functions["writes"])
    assert [a.operation for a in found] == [CREATE, UPDATE, DELETE, UPDATE]
    assert found[0].owner_filter
    assert [a.identifiers for a in found[1:]] == [("item_id",)] * 3


def test_lines_are_the_statements_and_fall_back_to_libcst_without_a_cpython_tree(monkeypatch) -> None:
    source = """
        def nested(db, flag):
            if flag:
                for _ in range(2):
                    pass
            rows = (
                db.query(User)
                .all()
            )
            return rows
        """
    (placed,) = accesses(source, "nested")
    assert placed.line == 7  # the first line of the statement holding the query
    import authlint.parse as parse_module

    monkeypatch.setattr(parse_module, "_screen_with_cpython", lambda text: (None, None))
    (replayed,) = accesses(source, "nested")
    assert replayed.line == 8  # libcst's own position of the query


# Object-level checks, calls and in-memory stores (AL302) ----------------------------


def test_caller_checks_are_conditions_comparing_the_caller_with_a_value() -> None:
    functions = facts_of(
        """
        def by_id(user_id, current_user):
            if user_id != current_user.id:
                raise HTTPException(status_code=403)

        def membership(request, doc):
            assert request.user in doc.editors.all()

        async def aiohttp_view(request, order):
            if order["owner"] != request["user"].id:
                raise web.HTTPForbidden()

        def not_checks(db, current_user, order_id):
            if current_user.role == "admin":
                pass
            mine = current_user.id == order_id
            return db.query(Order).filter(Order.owner_id == current_user.id).all()
        """
    )
    assert data_access.caller_checks(functions["by_id"]) == ["user_id != current_user.id"]
    assert data_access.caller_checks(functions["membership"]) == ["request.user in doc.editors.all()"]
    assert data_access.caller_checks(functions["aiohttp_view"]) == ['order["owner"] != request["user"].id']
    # A constant is no object, and a comparison outside a condition checks nothing.
    assert data_access.caller_checks(functions["not_checks"]) == []


def test_a_conditional_expression_checks_as_an_if_statement_does() -> None:
    functions = facts_of(
        """
        def order_of(owner, order_id):
            order = ORDERS.get(order_id)
            return order if order is not None and order["owner"] == owner else None

        def mine(current_user, doc):
            return doc if not doc.owner_id != current_user.id else None

        def picked(order, owner):
            return order["owner"] == owner
        """
    )
    assert data_access.owner_comparisons(functions["order_of"]) == [('order["owner"]', "owner")]
    assert data_access.caller_checks(functions["mine"]) == ["doc.owner_id != current_user.id"]
    # A comparison whose value is returned decides nothing here.
    assert data_access.owner_comparisons(functions["picked"]) == []


def test_caller_checks_include_the_owner_checks_made_in_a_condition() -> None:
    function = facts_of(
        """
        def read(session, current_user, id):
            item = session.get(Item, id)
            if item.owner_id != current_user.id:
                raise HTTPException(status_code=403)
        """
    )["read"]
    assert data_access.caller_checks(function) == ["item.owner_id != current_user.id"]
    assert function.body[data_access.OWNER_CHECKS] == ["item.owner_id != current_user.id"]


def test_calls_keep_the_callee_and_arguments_as_written() -> None:
    functions = facts_of(
        """
        def handler(db, order_id, current_user):
            order = crud.get_order(db, int(order_id), owner=current_user)
            ensure_owner(order, current_user)
            print(len(order.lines))
            return order

        class OrderView:
            def retrieve(self, request, pk=None):
                return Response(self.get_object())
        """
    )
    assert data_access.calls(functions["handler"]) == [
        Called("crud.get_order", ("db", "int(order_id)"), (("owner", "current_user"),)),
        Called("ensure_owner", ("order", "current_user")),
    ]  # builtins (print, len, int) are left out
    assert Called("self.get_object") in data_access.calls(functions["OrderView.retrieve"])


def test_store_accesses_read_change_and_delete_dict_stores_by_key() -> None:
    functions = facts_of(
        """
        ORDERS = {}
        sessions = dict()
        db = SQLAlchemy()

        def handler(order_id, payload, current_user, cache):
            order = ORDERS[order_id]
            ORDERS[order_id] = payload
            del ORDERS[int(order_id)]
            fake_items_db.get(order_id)
            ORDERS.pop(order_id)
            USERS[current_user.id]
            sessions[order_id]
            ORDERS["latest"]
            cache[order_id]
            db.get(order_id)
            local = {}
            local[order_id] = 1
            return order
        """
    )
    found = data_access.store_accesses(functions["handler"])
    assert [(a.operation, a.model, a.text, a.identifiers, a.owner_filter) for a in found] == [
        (GET, "ORDERS", "ORDERS[order_id]", ("order_id",), False),
        (UPDATE, "ORDERS", "ORDERS[order_id]", ("order_id",), False),
        (DELETE, "ORDERS", "ORDERS[int(order_id)]", ("order_id",), False),
        (GET, "fake_items_db", "fake_items_db.get(order_id)", ("order_id",), False),
        (DELETE, "ORDERS", "ORDERS.pop(order_id)", ("order_id",), False),
        (GET, "USERS", "USERS[current_user.id]", ("current_user.id",), True),
        (GET, "sessions", "sessions[order_id]", ("order_id",), False),
    ]  # a constant key, a parameter, a session object and a local dict are no store lookups
    assert all(a.library == "dict" for a in found)
    assert [a.line for a in found] == [8, 9, 10, 11, 12, 13, 14]
    assert data_access.accesses(functions["handler"]) == []  # stores are kept apart from database queries


def test_values_that_pick_one_row_through_a_call_or_a_peewee_delete() -> None:
    functions = facts_of(
        """
        def converted(order_id):
            return Order.query.get(int(order_id))

        def from_the_query_string():
            return Order.query.get_or_404(request.args.get("id", type=int))

        def peewee(ticket_id):
            Ticket.delete_by_id(ticket_id)

        def flask_sqlalchemy_3(document_id):
            return db.session.execute(db.select(Document).filter_by(id=document_id)).scalar_one()

        def conditions(ids):
            return Order.query.get(and_(Order.id.in_(ids)))
        """
    )
    (converted,) = data_access.accesses(functions["converted"])
    assert (converted.operation, converted.fields, converted.identifiers) == (GET, ("pk",), ("order_id",))
    (read,) = data_access.accesses(functions["from_the_query_string"])
    assert read.identifiers == ('request.args.get("id", type=int)',)
    (deleted,) = data_access.accesses(functions["peewee"])
    assert (deleted.operation, deleted.fields, deleted.identifiers) == (DELETE, ("pk",), ("ticket_id",))
    (selected,) = data_access.accesses(functions["flask_sqlalchemy_3"])
    assert (selected.operation, selected.library, selected.model) == (GET, "sqlalchemy", "Document")
    assert selected.identifiers == ("document_id",)
    (conditions,) = data_access.accesses(functions["conditions"])
    assert conditions.fields == ("id",) and conditions.identifiers == ("ids",)


def test_owner_comparisons_keep_both_sides_for_the_link_phase() -> None:
    functions = facts_of(
        """
        def claims_check(order_id):
            claims = get_jwt()
            order = Order.query.get(order_id)
            if order.user_id != claims["sub"]:
                abort(403)

        def path_check(user_id, order_id):
            post = fetch(order_id)
            if post["author_id"] != user_id or post["author_id"] == "system":
                abort(404)

        def known_caller(order, current_user):
            if order.owner_id != current_user.id:
                abort(403)
        """
    )
    assert data_access.owner_comparisons(functions["claims_check"]) == [("order.user_id", 'claims["sub"]')]
    assert data_access.owner_comparisons(functions["path_check"]) == [('post["author_id"]', "user_id")]
    # Compared with the caller authlint knows: a caller check, not left to the link phase.
    assert data_access.owner_comparisons(functions["known_caller"]) == []
    assert data_access.caller_checks(functions["known_caller"]) == ["order.owner_id != current_user.id"]


def test_get_object_or_404_of_the_callers_own_queryset_is_owner_filtered() -> None:
    functions = facts_of(
        """
        def related(request, pk):
            return get_object_or_404(request.user.orders, pk=pk)

        def queryset(request, pk):
            return get_object_or_404(Order.objects.filter(owner=request.user), pk=pk)

        def anyone(request, pk):
            return get_object_or_404(Order, pk=pk)
        """
    )
    assert [data_access.accesses(functions[n])[0].owner_filter for n in ("related", "queryset", "anyone")] == [
        True, True, False,
    ]  # fmt: skip
