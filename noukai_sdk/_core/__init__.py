"""The sans-IO core: protocols written once as effect generators, and the types they use."""
