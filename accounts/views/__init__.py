"""The account pages, by subject: an authority's staff (`staff`) and API clients (`api_clients`)
for its lead, the national analysts for the national administrators (`national`), the second
sign-in step (`signin`) and one's own account (`account`). Nothing is re-exported here: the URL
configurations name each module.
"""
